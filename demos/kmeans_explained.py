"""K-means, step by step: the algorithm behind every strip, as an animation.

Two clouds of 2-D points and K = 2 centroids placed at random. Then, until nothing
moves: assign every point to its nearest centroid, move each centroid to the mean of its
points. Each step is a frame, with the inertia (sum of squared distances) it leaves.
Writes a GIF; ``--window`` also shows it in a pygame window (Space: pause, Q: quit).

    python demos/kmeans_explained.py [--out DIR] [--window] [--seed N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

W, H = 640, 480
COLOURS = [(230, 80, 60), (50, 120, 220)]
GREY = (150, 150, 155)


def points(rng: np.random.Generator) -> np.ndarray:
    a = rng.normal((2.5, 3.0), 0.8, (60, 2))
    b = rng.normal((6.5, 6.0), 1.0, (60, 2))
    return np.vstack([a, b])


def steps(X: np.ndarray, rng: np.random.Generator, k: int = 2):
    """Yield (title, labels or None, centroids, previous centroids, inertia or None)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    C = rng.uniform(lo, hi, (k, 2))
    yield "random initial centroids", None, C, None, None
    labels = None
    n = 0
    while True:
        n += 1
        d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
        new = d.argmin(axis=1)
        inertia = float(d.min(axis=1).sum())
        changed = labels is None or bool((new != labels).any())
        labels = new
        yield f"step {n}: assign each point to its nearest centroid", labels, C, None, inertia
        if not changed:
            yield "nothing moved: done", labels, C, None, inertia
            return
        old = C.copy()
        C = np.array(
            [X[labels == j].mean(axis=0) if (labels == j).any() else C[j] for j in range(k)]
        )
        inertia = float(((X - C[labels]) ** 2).sum())
        yield f"step {n}: move each centroid to the mean of its points", labels, C, old, inertia


def draw(X, title, labels, C, old, inertia, bounds) -> Image.Image:
    img = Image.new("RGB", (W, H), (250, 250, 248))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=16)
    lo, hi = bounds

    def p(v):
        return (
            40 + (v[0] - lo[0]) / (hi[0] - lo[0]) * (W - 80),
            H - 50 - (v[1] - lo[1]) / (hi[1] - lo[1]) * (H - 110),
        )

    for i, v in enumerate(X):
        c = GREY if labels is None else COLOURS[labels[i]]
        x, y = p(v)
        d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=c)
    for j, c in enumerate(C):
        x, y = p(c)
        if old is not None:
            d.line([p(old[j]), (x, y)], fill=(40, 40, 40), width=2)
        d.line([x - 10, y - 10, x + 10, y + 10], fill=COLOURS[j], width=5)
        d.line([x - 10, y + 10, x + 10, y - 10], fill=COLOURS[j], width=5)
    d.text((16, 12), title, font=font, fill=(20, 20, 20))
    if inertia is not None:
        d.text((16, 34), f"inertia {inertia:.1f}", font=font, fill=(90, 90, 90))
    return img


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "kmeans")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--window", action="store_true", help="also play it in a window")
    ap.add_argument("--loops", type=int, default=0, help="stop the window after N loops")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    X = points(rng)
    pad = 0.5
    bounds = (X.min(axis=0) - pad, X.max(axis=0) + pad)
    frames, log = [], []
    for title, labels, C, old, inertia in steps(X, rng):
        frames.append(draw(X, title, labels, C, old, inertia, bounds))
        log.append(f"{title}" + (f"  (inertia {inertia:.1f})" if inertia is not None else ""))
    gif = args.out / "kmeans.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=900, loop=0)
    print("\n".join(log))
    print(f"wrote {args.out}/ ({len(frames)} frames)")
    if args.window:
        show(frames, args.loops)


def show(frames: list[Image.Image], loops: int = 0) -> None:
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.display.init()
    screen = pygame.display.set_mode((W, H))
    pygame.display.set_caption("k-means, step by step")
    surfaces = [pygame.image.frombytes(f.tobytes(), f.size, "RGB") for f in frames]
    clock = pygame.time.Clock()
    i, paused, t = 0, False, 0.0
    while True:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (
                event.type == pygame.KEYDOWN and event.key in (pygame.K_q, pygame.K_ESCAPE)
            ):
                pygame.display.quit()
                return
            if event.type == pygame.KEYDOWN and event.key == pygame.K_SPACE:
                paused = not paused
        screen.blit(surfaces[i], (0, 0))
        pygame.display.flip()
        t += clock.tick(30) / 1000
        if not paused and t > 0.9:
            i, t = (i + 1) % len(surfaces), 0.0
            if i == 0 and loops:
                loops -= 1
                if loops == 0:
                    pygame.display.quit()
                    return


if __name__ == "__main__":
    main()
