"""Analysis: pure computation over pixels, palettes and strips -- k-means kernels, strips,
colour segments, shots, palette distances, search, alignment, colour names. NumPy and
Numba only: no PyAV, no pygame, no files."""
