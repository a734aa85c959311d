"""Outputs: a spectrum in, a file out -- the picture's reading aids, comparisons, the web
page, the corpus tables, timelines, swatches, statistics, still-image quantization."""
