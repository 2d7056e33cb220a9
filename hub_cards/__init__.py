"""Card templates for mubench-hf (shipped inside the wheel as ``mubench_hf.hub_cards``)."""
