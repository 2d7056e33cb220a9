"""evaluate metric modules for mubench-hf (shipped inside the wheel as ``mubench_hf.evaluate_metrics``)."""
