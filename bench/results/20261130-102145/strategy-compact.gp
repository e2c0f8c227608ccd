set terminal pngcairo size 1100,560 font ',10'
set output 'strategy-compact.png'
cols = "#d62728 #1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 #843c39"
do for [i=1:14] { set linetype i linecolor rgb word(cols, i) linewidth 1.5 }
set termoption noenhanced
set title "Memory held by a region replacing a tenth of its data each round"
set xlabel "round"
set ylabel "held (MiB)"
set key top left
plot 'strategy-compact.dat' using 1:2 with lines title 'blocks, compacted every 5 rounds', 'strategy-compact.dat' using 1:3 with lines title 'contiguous, compacted every 5 rounds', 'strategy-compact.dat' using 1:4 with lines title 'blocks, never compacted', 'strategy-compact.dat' using 1:5 with lines title 'contiguous, never compacted'
