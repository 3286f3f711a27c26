# bench-lib.sh: what the bench scripts share; sourced, not run. Callers set
# $dir (where measurements are kept) and $prog (the name errors start with).

# measure NAME CMD...: one run of CMD under GNU time; appends
# "user sys wall maxrss_KiB" to $dir/NAME.
measure() {
	name=$1
	shift
	/usr/bin/time -f '%U %S %e %M' -o "$dir/$name.last" "$@" >/dev/null 2>"$dir/$name.err" ||
		{ echo "$prog: $name failed:" >&2; cat "$dir/$name.err" >&2; exit 1; }
	cat "$dir/$name.last" >>"$dir/$name"
}

# stats FILE FIELD-EXPR FORMAT: "min / median / max" of an awk expression over FILE.
stats() {
	awk "{ print $2 }" "$1" | sort -g | awk -v f="$3" '
		{ v[NR] = $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf f " / " f " / " f, v[1], m, v[NR]
		}'
}

# median FILE FIELD-EXPR: the median of an awk expression over FILE.
median() { awk "{ print $2 }" "$1" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
