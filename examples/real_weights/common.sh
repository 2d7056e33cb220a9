# Shared by the real-weights scripts (sourced after OUT is set): the tools, an offline environment, a fresh
# OUT/times.tsv, and `step NAME COMMAND...`, which runs the command and appends "NAME wall_s user_s sys_s"
# to OUT/times.tsv (what collect_results.py reads).
PYTHON=${PYTHON:-python}
MUBENCH=${MUBENCH:-mubench}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
# one torch thread: on a shared 2-core machine a second thread costs more CPU time than it saves (~1.9x the
# CPU time per step for ~1.2x the speed, measured with MiniLM)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$OUT"
: >"$OUT/times.tsv"

step() {
	local name=$1
	shift
	/usr/bin/time -f "$name\t%e\t%U\t%S" -a -o "$OUT/times.tsv" "$@"
}
