"""Drawing the live view's model onto any pygame surface: the window's screen, or an
off-screen surface for a video of the spectrum building. No window, no events here.
"""

from __future__ import annotations

import sys
from typing import Any

from streamspec.live._pygame import pygame
from streamspec.live.model import HoverInfo, LiveModel
from streamspec.live.pipeline import DisplayFrame

__all__ = ["HELP", "Painter"]

HELP = [
    ("Space", "pause / resume (at the end: play again)"),
    ("Left / Right", "seek -10 s / +10 s (hold to repeat)"),
    ("Shift+Left / Right", "seek -60 s / +60 s"),
    ("Home / End", "the start / the last moment of the film"),
    ("0 ... 9", "jump to 0 % ... 90 % of the film"),
    (", / .", "one frame back / forward (pauses)"),
    ("click spectrum", "seek to that time"),
    ("drag on spectrum", "scrub (the picture follows)"),
    ("[ / ]", "slower / faster (0.5x - 2x)"),
    ("Backspace", "normal speed"),
    ("Up / Down", "volume +10 % / -10 %"),
    ("M", "mute / unmute"),
    ("wheel, + / -", "zoom the spectrum (around the cursor / playhead)"),
    ("right-drag, Shift+wheel", "pan the spectrum"),
    ("Ctrl+0, Z, double-click", "the whole film (fit)"),
    ("C", "show / hide chapters and segments"),
    ("S", "save a snapshot"),
    ("F", "fullscreen on / off"),
    ("H", "this help"),
    ("Q / Esc", "quit (saves)"),
]

BG = (18, 18, 20)
INK = (230, 230, 235)
TEXT = (225, 225, 230)
DIM = (140, 140, 150)
PLAYHEAD = (255, 255, 255)
ERROR = (255, 110, 100)


class Painter:
    """Draws a :class:`LiveModel` (and the current picture) onto a surface.

    Keeps the scaled picture and the scaled spectrum panel between calls, so a frame
    where nothing changed costs a few blits.
    """

    def __init__(self, model: LiveModel) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.model = model
        self.font = pygame.font.Font(None, 20)
        self.small = pygame.font.Font(None, 17)
        self.big = pygame.font.Font(None, 28)
        self.screen: pygame.Surface = pygame.Surface((1, 1))
        self._surface: pygame.Surface | None = None
        self._surface_of: DisplayFrame | None = None
        self._panel: pygame.Surface | None = None  # the panel's picture as last built
        self._panel_key: tuple[Any, ...] | None = None
        self._marks: tuple[Any, pygame.Rect, pygame.Surface] | None = None  # the bands
        self._labels: dict[str, pygame.Surface] = {}  # axis labels, rendered
        self._tooltip: tuple[Any, pygame.Surface] | None = None
        widths: dict[str, float] = {}

        def text_width(text: str) -> float:  # the axis labels' real widths, for the model
            w = widths.get(text)
            if w is None:
                w = widths[text] = float(self.small.size(text)[0])
            return w

        model.text_width = text_width

    def invalidate(self) -> None:
        """The layout changed: rescale the picture and rebuild the panel."""
        self._surface = None
        self._panel_key = None

    def draw(
        self,
        screen: pygame.Surface,
        frame: DisplayFrame | None,
        message: str | None = None,
    ) -> None:
        """Draw the whole view onto ``screen``: picture, spectrum, axis, status line,
        then the banner (``message`` or the error), tooltip and help overlay."""
        self.screen = screen
        m = self.model
        L = m.layout
        screen.fill(BG)
        if frame is not None:
            if self._surface is None or self._surface_of is not frame:
                rgb = frame.rgb
                surf = pygame.image.frombuffer(rgb.data, (rgb.shape[1], rgb.shape[0]), "RGB")
                if surf.get_size() != (L.video.w, L.video.h):
                    surf = pygame.transform.scale(surf, (L.video.w, L.video.h))
                self._surface, self._surface_of = surf, frame
            screen.blit(self._surface, (L.video.x, L.video.y))
        self._draw_panel()
        self._draw_axis()
        hud = self.font.render(m.hud_text(), True, ERROR if m.error else TEXT)
        self.screen.blit(hud, (8, L.hud.y + (L.hud.h - hud.get_height()) // 2))
        if m.error:
            self._banner(f"error: {m.error} - the spectrum so far will be saved")
        elif message is not None:
            self._banner(message)
        if m.hover is not None:
            self._draw_hover(*m.hover)
        if m.show_help:
            self._draw_help()

    def _draw_panel(self) -> None:
        m = self.model
        p = m.layout.panel
        key = (p.x, p.y, p.w, p.h, m.pps, m.scroll)
        changed = m.dirty or self._panel is None or key != self._panel_key
        if changed:
            if self._panel is None or self._panel.get_size() != (p.w, p.h):
                # 32-bit, in the screen's channel order: filling it is a copy of the
                # model's pixels, blitting it each frame another
                self._panel = pygame.Surface((p.w, p.h), 0, 32)
                if self.screen.get_bitsize() == 32:
                    self._panel = self._panel.convert(self.screen)
                m.channel_bytes = _channel_bytes(self._panel)
            view = pygame.surfarray.pixels2d(self._panel)
            view[...] = m.panel_pixels32()  # one NumPy gather, no scaling of surfaces
            del view  # unlocks the surface
            self._panel_key = key
        assert self._panel is not None
        self.screen.blit(self._panel, (p.x, p.y))
        if m.show_marks and (m.layout.segments.h or m.layout.chapters.h):
            top = m.layout.segments.y
            bands = pygame.Rect(p.x, top, p.w, m.layout.axis.y - top)
            bands = bands.clip(self.screen.get_rect())  # a layout may run ahead of a resize
            mkey = (key, id(m.segments), len(m.segments), m.chapters())
            if not bands.w or not bands.h:
                pass
            elif self._marks is None or mkey != self._marks[0] or self._marks[1] != bands:
                self._draw_marks()
                self._marks = (mkey, bands, self.screen.subsurface(bands).copy())
            else:
                self.screen.blit(self._marks[2], bands)
            self._chapter_ticks()
        hx = round(m.playhead_x)
        if p.x <= hx <= p.right:
            pygame.draw.line(self.screen, PLAYHEAD, (hx, p.y - 3), (hx, p.bottom + 3), 2)

    def _draw_marks(self) -> None:
        """Segments (one block each, its dominant colours stacked; a line at each boundary) and
        chapters (a bracket each, its name inside), in their bands under the strips."""
        m = self.model
        band = m.layout.segments
        if band.h and m.segments:
            self.screen.set_clip(pygame.Rect(band.x, band.y, band.w, band.h))
            for seg in m.segments:
                x0, x1 = m.x_of_time(seg["start"]), m.x_of_time(seg["end"])
                x0 = m.x_of_slot(seg["first_strip"]) if "first_strip" in seg else x0
                x1 = m.x_of_slot(seg["last_strip"] + 1) if "last_strip" in seg else x1
                if x1 < band.x or x0 > band.right:
                    continue
                # One segment, one block: its colours stacked (as render draws them).
                colours = seg.get("colours") or []
                total = sum(c["share"] for c in colours) or 1.0
                left, width = round(x0), max(1, round(x1) - round(x0))
                rows, done, y0 = band.h - 2, 0.0, band.y + 1
                for c in colours:
                    done += c["share"] / total
                    y1 = band.y + 1 + round(done * rows)
                    if y1 > y0:
                        pygame.draw.rect(self.screen, tuple(c["rgb"]), (left, y0, width, y1 - y0))
                    y0 = y1
                if seg.get("first_strip", 0) > 0:
                    xi = round(x0)
                    pygame.draw.line(self.screen, INK, (xi, band.y), (xi, band.bottom - 1))
            self.screen.set_clip(None)
        band = m.layout.chapters
        if band.h:
            self.screen.set_clip(pygame.Rect(band.x, band.y, band.w, band.h))
            top = band.y + 2
            for start, stop, title in m.chapters():
                x0 = max(m.x_of_time(start), band.x - 2)
                x1 = min(m.x_of_time(stop), band.right + 2)
                if x1 - x0 < 3:
                    continue
                pts = [(x0 + 1, top + 4), (x0 + 1, top), (x1 - 1, top), (x1 - 1, top + 4)]
                pygame.draw.lines(self.screen, INK, False, [(round(a), b) for a, b in pts])
                text = self._fit(title, x1 - x0 - 8)
                if text is not None:
                    # centred in the visible part of the chapter, so the name stays on screen
                    lo, hi = max(x0, band.x), min(x1, band.right)
                    tx = round(min(max((lo + hi - text.get_width()) / 2, x0 + 4), x1 - 4))
                    self.screen.blit(text, (tx, top + 3))
            self.screen.set_clip(None)

    def _chapter_ticks(self) -> None:
        """A short mark over the strips' foot at each chapter's start."""
        m = self.model
        p = m.layout.panel
        if m.layout.chapters.h:
            for start, _, _ in m.chapters()[1:]:
                xi = round(m.x_of_time(start))
                if p.x <= xi < p.right:
                    pygame.draw.line(self.screen, INK, (xi, p.bottom - 6), (xi, p.bottom - 1))

    def _fit(self, title: str, width: float) -> pygame.Surface | None:
        """``title`` rendered, shortened with an ellipsis to ``width`` (None: nothing fits)."""
        from streamspec.outputs.annotate import fit_text

        text = fit_text(title, width, lambda t: self.small.size(t)[0])
        return self.small.render(text, True, INK) if text else None

    def _draw_axis(self) -> None:
        m = self.model
        a = m.layout.axis
        pygame.draw.line(self.screen, DIM, (a.x, a.y), (a.right, a.y))
        labels = self._labels
        if len(labels) > 1024:
            labels.clear()
        for x, label, left in m.axis_labels():
            xi = round(x)
            pygame.draw.line(self.screen, DIM, (xi, a.y), (xi, a.y + 4))
            text = labels.get(label)
            if text is None:
                text = labels[label] = self.small.render(label, True, DIM)
            self.screen.blit(text, (round(left), a.y + 5))

    def _draw_hover(self, x: int, y: int) -> None:
        info = self.model.hover_info(x, y)
        if info is None:
            return
        key = (info.time, tuple(info.colours), info.chapter)
        if self._tooltip is None or self._tooltip[0] != key:
            self._tooltip = (key, self._tooltip_box(info))
        box = self._tooltip[1]
        w, h = box.get_size()
        bx = min(x + 14, self.screen.get_width() - w - 4)
        by = max(y - h - 10, 4)
        self.screen.blit(box, (bx, by))

    def _tooltip_box(self, info: HoverInfo) -> pygame.Surface:
        """The tooltip: time, chapter, and the strip's colours with their shares."""
        lines = [self.font.render(info.time, True, TEXT)]
        if info.chapter:
            lines.append(self.small.render(info.chapter, True, DIM))
        sw = 14
        w = max(max(s.get_width() for s in lines), 150 if info.colours else 0) + 16
        head = sum(s.get_height() + 3 for s in lines)
        h = head + 8 + len(info.colours) * (sw + 4) + (6 if info.colours else 0)
        box = pygame.Surface((w, h), pygame.SRCALPHA)
        box.fill((10, 10, 12, 225))
        cy = 5
        for s in lines:
            box.blit(s, (8, cy))
            cy += s.get_height() + 3
        cy += 2
        for rgb, share in info.colours:
            pygame.draw.rect(box, (*rgb, 255), (8, cy, sw * 2, sw))
            label = self.small.render(
                f"#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}  {share:5.1%}", True, TEXT
            )
            box.blit(label, (8 + sw * 2 + 8, cy))
            cy += sw + 4
        return box

    def _banner(self, text: str) -> None:
        surf = self.font.render(text, True, TEXT)
        w, h = surf.get_width() + 20, surf.get_height() + 10
        box = pygame.Surface((w, h), pygame.SRCALPHA)
        box.fill((120, 30, 30, 220) if self.model.error else (20, 20, 24, 220))
        x = (self.screen.get_width() - w) // 2
        self.screen.blit(box, (x, 10))
        self.screen.blit(surf, (x + 10, 15))

    def _draw_help(self) -> None:
        rows = [(self.font.render(k, True, TEXT), self.font.render(v, True, DIM)) for k, v in HELP]
        title = self.big.render("streamspec - keys", True, TEXT)
        kw = max(r[0].get_width() for r in rows)
        vw = max(r[1].get_width() for r in rows)
        lh = rows[0][0].get_height() + 6
        w = max(kw + vw + 60, title.get_width() + 40)
        h = title.get_height() + 20 + lh * len(rows) + 10
        sw, sh = self.screen.get_size()
        x, y = (sw - w) // 2, (sh - h) // 2
        box = pygame.Surface((w, h), pygame.SRCALPHA)
        box.fill((10, 10, 12, 235))
        self.screen.blit(box, (x, y))
        self.screen.blit(title, (x + 20, y + 10))
        cy = y + title.get_height() + 20
        for k, v in rows:
            self.screen.blit(k, (x + 20, cy))
            self.screen.blit(v, (x + 40 + kw, cy))
            cy += lh


def _channel_bytes(surface: pygame.Surface) -> tuple[int, int, int]:
    """The byte of a 32-bit pixel of ``surface`` that holds red, green and blue."""
    masks = surface.get_masks()[:3]
    shifts = [(mask & -mask).bit_length() - 1 for mask in masks]
    if sys.byteorder == "big":
        return (3 - shifts[0] // 8, 3 - shifts[1] // 8, 3 - shifts[2] // 8)
    return (shifts[0] // 8, shifts[1] // 8, shifts[2] // 8)
