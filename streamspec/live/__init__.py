"""The live view: the video plays, the spectrum builds and scrolls beside it.

``model`` is the window's state (no pygame), ``pipeline`` the decoding/quantizing
worker thread (no pygame), ``view`` the pygame window, ``app`` the glue that makes sure
the spectrum is saved on every way out.
"""
