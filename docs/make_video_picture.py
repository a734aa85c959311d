"""Make the documentation's still of a ``streamspec video`` movie (docs/video.jpg).

    python docs/make_video_picture.py

Renders the shared clip ``bigbuckbunny.mp4`` (../shared/media) to a 1280x720 movie with a
sample every 0.25 s, decodes its frame at 4 s and saves it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # this checkout

HERE = Path(__file__).resolve().parent
CLIP = HERE.parent.parent / "shared" / "media" / "bigbuckbunny.mp4"


def main() -> None:
    import av

    from streamspec.core.options import RenderOptions, VideoOptions
    from streamspec.live.video import make_video

    with tempfile.TemporaryDirectory() as d:
        movie = Path(d) / "building.mp4"
        make_video(CLIP, movie, RenderOptions().override(every=0.25), VideoOptions())
        with av.open(str(movie)) as c:
            for frame in c.decode(video=0):
                if frame.time is not None and frame.time >= 4.0:
                    # the movie is tagged BT.709, limited range: convert it so
                    rgb = frame.reformat(
                        format="rgb24", src_colorspace=1, src_color_range=1, dst_color_range=2
                    )
                    rgb.to_image().save(HERE / "video.jpg", quality=88)
                    break
    print(f"wrote {HERE / 'video.jpg'}")


if __name__ == "__main__":
    main()
