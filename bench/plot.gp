# bench/plot.gp: bench.png from the files report.py writes (run in the results directory).
load "plotvars.gp"
set terminal pngcairo size 1600,1100 font ",10"
set output "bench.png"
set multiplot layout 2,2 title "kata-runtime benchmark ".title_date

# 1. lifecycle: median with the p95 on top
set title "run /bin/true: median and p95 (log scale)"
set logscale y
set yrange [0.01:*]
set ylabel "seconds"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -20
set key top left
if (has_lifecycle) {
	plot "lifecycle.dat" using 2:xtic(1) title "median", "" using 3 title "p95"
} else {
	unset logscale y
	set label 1 "no lifecycle data" at graph 0.4, graph 0.5
	plot [0:1][0:1] -1 notitle
	unset label 1
}
unset logscale y
set autoscale y
unset xtics
set xtics

# 2. boot breakdown: step durations
set title "cold run: step durations (median, ms)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set boxwidth 0.6
set xtics rotate by -30 font ",8"
set key off
if (has_breakdown) {
	set style histogram clustered gap 1
	set logscale y
	plot "breakdown.dat" using 2:xtic(1) notitle lc rgb "#4477aa"
	unset logscale y
} else {
	set label 1 "no breakdown data" at graph 0.4, graph 0.5
	plot [0:1][0:1] -1 notitle
	unset label 1
}
unset xtics
set xtics
set key top left

# 3. density: start time per pod
set title "density: run -d time of pod N"
set style data linespoints
set xlabel "pod"
set ylabel "seconds"
if (has_density && has_density_template) {
	plot "density.dat" using 1:($3 == 0 ? $2 : NaN) title "cold: run -d" pt 7 ps 0.6, \
	     "" using 1:($3 != 0 ? $2 : NaN) title "cold: failed" pt 2 ps 1.2 lc rgb "red", \
	     "density-template.dat" using 1:($3 == 0 ? $2 : NaN) title "template: run -d" pt 5 ps 0.6
} else { if (has_density) {
	plot "density.dat" using 1:($3 == 0 ? $2 : NaN) title "cold: run -d" pt 7 ps 0.6, \
	     "" using 1:($3 != 0 ? $2 : NaN) title "cold: failed" pt 2 ps 1.2 lc rgb "red"
} else {
	set label 1 "no density data" at graph 0.4, graph 0.5
	plot [0:1][0:1] -1 notitle
	unset label 1
} }

# 4. density: memory per pod
set title "density: memory per running pod"
set xlabel "pods running"
set ylabel "MiB per pod"
if (has_density && has_density_template) {
	plot "density.dat" using 4:5 title "cold: PSS (QEMU + virtiofsd + monitor + shim) / pods" pt 7 ps 0.6, \
	     "" using 4:6 title "cold: MemAvailable drop / pods" pt 5 ps 0.6, \
	     "density-template.dat" using 4:5 title "template: PSS / pods" pt 9 ps 0.8, \
	     "" using 4:6 title "template: MemAvailable drop / pods" pt 11 ps 0.8
} else { if (has_density) {
	plot "density.dat" using 4:5 title "cold: PSS (QEMU + virtiofsd + monitor + shim) / pods" pt 7 ps 0.6, \
	     "" using 4:6 title "cold: MemAvailable drop / pods" pt 5 ps 0.6
} else {
	set label 1 "no density data" at graph 0.4, graph 0.5
	plot [0:1][0:1] -1 notitle
	unset label 1
} }
unset multiplot
