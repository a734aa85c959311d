"""The film's sound for ``play``: decoded in a thread of its own (by
:class:`streamspec.media.audio.SoundReader`), played through an SDL callback device
(pygame-ce), and the clock the pictures follow.

As in ffplay: the decoder thread converts the audio (any layout, any rate) to the
device's rate and channels, changes the tempo with FFmpeg's ``atempo`` (pitch kept)
when the speed is not 1x, and queues about half a second of it.
SDL's audio thread calls :meth:`AudioPlayer.callback` for each device buffer; it hands
over queued samples (times the volume) and tells the :class:`~.clock.AudioTimeline`
which media time it handed over and when, so the clock knows what is being heard.

Two SDL calls are made through ctypes rather than pygame: pygame's ``AudioDevice.pause``
and ``close`` keep Python's lock while they wait for SDL's audio lock, which the callback
holds while it waits for Python's lock -- a deadlock. ctypes lets go of it. Pause is done
in the callback (it plays silence and the clock stands still).

One module of about 500 lines: the decoding thread, its queue, the SDL callback and the
clock share one lock and one generation counter, and read best side by side.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamspec.core.limits import MAX_VOLUME  # noqa: F401  (kept: its old public home)
from streamspec.live.clock import AudioTimeline, MediaClock
from streamspec.media.audio import LAYOUTS, SoundError, SoundReader, Tempo, audio_track

__all__ = ["AudioClock", "AudioPlayer", "audio_track", "open_audio"]

# Device buffer: 40 ms (ffplay aims at <= 30 callbacks a second). A whole number of
# milliseconds, so SDL's disk driver (which sleeps whole milliseconds) keeps real time.
BUFFER_SECONDS = 0.04
QUEUE_SECONDS = 0.5  # decoded ahead of the device
_ALLOW_ANY_CHANGE = 0x0F  # frequency, format, channels, samples
_INIT_AUDIO = 0x10
# Drivers that write each buffer as soon as the callback fills it (no device queue).
_NO_QUEUE_DRIVERS = ("disk",)
_keep: list[Any] = []  # closed devices: pygame must never close their (reused) ids again


class AudioPlayer:
    """Plays one audio stream of a file from a media time, at a speed and volume.

    ``origin`` is the time (s) of the film's first picture in the file's timeline, so
    the sound's times are the pictures' times. ``announce`` gets the one-line warnings;
    ``now`` is the wall clock (tests inject it).
    Use :func:`open_audio`, which returns None when there is no device.
    """

    def __init__(
        self,
        url: str,
        stream_index: int,
        *,
        origin: float = 0.0,
        end: float | None = None,
        volume: int = 100,
        announce: Callable[[str], None] = print,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.origin = origin
        self.end = end  # the sound stops where the pictures do (--end)
        self.volume = int(volume)
        self.muted = False
        self.announce = announce
        # (wall time, bytes before, bytes) of each device buffer: what a recording of
        # the output is aligned with (benchmarks/avsync.py). About 2 hours at 40 ms.
        self.log: deque[tuple[float, int, int]] = deque(maxlen=180_000)
        # Gets (samples, rate, wall time) of every buffer played (play --record's sound);
        # called on SDL's thread, so it must not block.
        self.tap: Callable[[NDArray[np.float32], int, float], None] | None = None
        self._written = 0
        self.samples_dropped = 0  # device buffers that found the queue empty while playing
        self._warned: set[str] = set()
        self._reader = SoundReader(url, stream_index, origin=origin)
        self._cond = threading.Condition()
        self._chunks: deque[tuple[float, NDArray[np.float32]]] = deque()
        self._head = 0  # samples of the first chunk already played
        self._queued = 0  # samples queued
        self._gen = 0
        self._want: tuple[float, float, int] | None = None  # (time, tempo, generation)
        self._tempo = 1.0
        self._released = False
        self._paused = False
        self._eof = False
        self._stop = False
        self._device: Any = None
        self._sdl: Any = None
        self._thread = threading.Thread(target=self._run, name="streamspec-audio", daemon=True)
        self.timeline = AudioTimeline(now=now)
        self.rate = 48000
        self.channels = 2

    # -- the device ---------------------------------------------------------------------
    def open_device(self) -> str | None:
        """Open SDL's default audio device; returns why it cannot, or None."""
        try:
            from pygame._sdl2 import audio as sdl_audio
            from pygame._sdl2 import sdl2

            from streamspec.live._pygame import pygame  # noqa: F401  (first, and quietly)
        except ImportError as exc:  # pragma: no cover - pygame-ce always has them
            return f"pygame has no SDL audio ({exc})"
        try:
            sdl2.init_subsystem(_INIT_AUDIO)
        except Exception as exc:  # pygame's sdl2.error: no such driver, no sound system
            return str(exc) or "SDL audio cannot start"
        self._sdl = _sdl_library()
        driver = self._driver()
        if driver == "dummy":
            self._quit_audio()
            return "SDL's dummy audio driver plays nothing"
        rate = 48000
        try:
            dev = sdl_audio.AudioDevice(
                None,  # the default device
                False,
                rate,
                sdl_audio.AUDIO_F32,
                2,
                round(rate * BUFFER_SECONDS),
                _ALLOW_ANY_CHANGE,
                self.callback,
            )
        except Exception as exc:
            self._quit_audio()
            return str(exc).strip().splitlines()[0] if str(exc).strip() else "no audio device"
        self._device = dev
        if not self.set_format(int(dev.frequency), int(dev.numchannels), int(dev.audioformat)):
            self.close()
            return f"unsupported device format ({dev.numchannels} channels, {dev.audioformat})"
        self.buffer = int(dev.chunksize) / self.rate
        # A sound card plays a buffer after the one it is playing (ffplay: two buffers).
        self.timeline.latency = 0.0 if driver in _NO_QUEUE_DRIVERS else 2 * self.buffer
        return None

    def set_format(self, rate: int, channels: int, audioformat: int) -> bool:
        """What the device takes: its rate, channels and SDL sample format. False when
        this player cannot make it."""
        self.rate, self.channels = rate, channels
        self._encode = _encoder(audioformat)
        self._bytes_per_sample = max((audioformat & 0xFF) // 8, 1)
        return channels in LAYOUTS and self._encode is not None

    def _driver(self) -> str:
        if self._sdl is not None:
            name = self._sdl.SDL_GetCurrentAudioDriver()
            if name:
                return str(name.decode())
        return os.environ.get("SDL_AUDIODRIVER", "")

    def _quit_audio(self) -> None:
        if self._sdl is not None:
            self._sdl.SDL_QuitSubSystem(_INIT_AUDIO)

    # -- control (the window's thread) ----------------------------------------------------
    def start(self, t: float) -> None:
        """Start decoding at ``t``; the device plays once :meth:`release` is called."""
        self._thread.start()
        self.seek(t)
        if self._device is not None:
            self._device_pause(False)  # the callback plays silence until released

    def seek(self, t: float, *, hold: bool = True) -> None:
        """Restart at media time ``t``. ``hold``: silent until :meth:`release` (the
        first picture there is up), so sound and picture start together."""
        with self._cond:
            self._gen += 1
            self._want = (t, self._tempo, self._gen)
            self._chunks.clear()
            self._head = self._queued = 0
            self._eof = False
            if hold:
                self._released = False
            self.timeline.reset(t, running=not hold and self._released)
            self._cond.notify_all()

    def release(self) -> None:
        """The picture is up: play."""
        with self._cond:
            self._released = True
        self.timeline.run()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            if paused == self._paused:
                return
            self._paused = paused
        if paused:
            self.timeline.pause()
        else:
            self.timeline.resume()

    def set_speed(self, speed: float) -> None:
        """Change the tempo (0.5 - 2), pitch kept: go on from the time heard now."""
        if abs(speed - self._tempo) < 1e-9:
            return
        t = self.timeline.time()
        self._tempo = float(speed)
        self.timeline.speed = self._tempo
        paused = self._paused
        self.seek(t, hold=False)
        if paused:
            self.timeline.pause()

    def time(self) -> float:
        """The media time being heard."""
        return self.timeline.time()

    def close(self) -> None:
        """Stop the thread, close the device and the file."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.ident is not None:
            self._thread.join(2.0)
        dev, self._device = self._device, None
        if dev is not None:
            if self._sdl is not None:
                self._sdl.SDL_CloseAudioDevice(int(dev.deviceid))  # the lock let go
                _keep.append(dev)
            else:  # pragma: no cover - no ctypes access to SDL
                dev.close()
            self._quit_audio()
        if not self._thread.is_alive():
            self._reader.close()

    def _device_pause(self, on: bool) -> None:
        if self._sdl is not None:
            self._sdl.SDL_PauseAudioDevice(int(self._device.deviceid), int(on))
        else:  # pragma: no cover
            self._device.pause(int(on))

    def warn(self, key: str, text: str) -> None:
        """Say ``text`` once per ``key``."""
        if key not in self._warned:
            self._warned.add(key)
            self.announce(f"sound: {text}")

    # -- SDL's audio thread ---------------------------------------------------------------
    def callback(self, device: Any, out: memoryview) -> None:
        """Fill one device buffer ``out`` (SDL's thread calls this)."""
        wall = self.timeline.now()
        try:
            n = len(out) // (self._bytes_per_sample * self.channels)
            buf = np.zeros((n, self.channels), np.float32)
            got, media, tempo = self._fill(buf)
            if media is not None:
                self.timeline.delivered(wall, media, got / self.rate, tempo)
            gain = 0.0 if self.muted else self.volume / 100
            if gain != 1.0:
                buf *= gain
            np.clip(buf, -1.0, 1.0, out=buf)  # a loud downmix or volume > 100 % clips here
            out[:] = self._encode(buf)  # type: ignore[misc]  # set before the device runs
            if self.tap is not None:
                self.tap(buf, self.rate, wall)
        except Exception as exc:  # never let SDL's thread die: play silence
            out[:] = bytes(len(out))
            self.warn("callback", f"playback failed ({exc}); going on silent")
        self.log.append((wall, self._written, len(out)))
        self._written += len(out)

    def _fill(self, buf: NDArray[np.float32]) -> tuple[int, float | None, float]:
        n = len(buf)
        got = 0
        media: float | None = None
        with self._cond:
            tempo = self._tempo
            if not self._released or self._paused:
                return 0, None, tempo
            step = tempo / self.rate
            while got < n and self._chunks:
                start, data = self._chunks[0]
                take = min(n - got, len(data) - self._head)
                if media is None:
                    media = start + self._head * step
                buf[got : got + take] = data[self._head : self._head + take]
                got += take
                self._head += take
                if self._head >= len(data):
                    self._chunks.popleft()
                    self._head = 0
            self._queued -= got
            if got < n:
                if self._eof:
                    self.timeline.drained = True
                else:
                    self.samples_dropped += n - got
            self._cond.notify_all()
        if media is None and self.timeline.drained:
            return 0, None, tempo
        return got, media, tempo

    # -- the decoder thread ---------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while self._want is None and not self._stop:
                    self._cond.wait(0.2)
                if self._stop:
                    return
                assert self._want is not None
                t, tempo, gen = self._want
                self._want = None
            try:
                self._decode(t, tempo, gen)
            except Exception as exc:  # the picture goes on; the sound stops here
                self.warn("decode", f"cannot decode the audio ({_one_line(exc)}); going on silent")
            with self._cond:
                if gen == self._gen:
                    self._eof = True

    def _current(self, gen: int) -> bool:
        return gen == self._gen and not self._stop

    def _decode(self, t: float, tempo: float, gen: int) -> None:
        out = _Output(self, t, tempo, gen)
        blocks = self._reader.blocks(
            t,
            rate=self.rate,
            channels=self.channels,
            end=self.end,
            alive=lambda: self._current(gen),
            warn=self.warn,
        )
        for start, data in blocks:
            out.place(data, start)
            if not self._current(gen):
                return
        if self._current(gen):
            out.flush()

    def _enqueue(self, media: float, data: NDArray[np.float32], gen: int) -> bool:
        """Queue ``data`` (device rate, tempo applied) heard from media time ``media``;
        waits while the queue is full. False when it is stale (a seek, the end)."""
        with self._cond:
            while self._queued > QUEUE_SECONDS * self.rate and self._current(gen):
                self._cond.wait(0.05)
            if not self._current(gen):
                return False
            self._chunks.append((media, np.ascontiguousarray(data, np.float32)))
            self._queued += len(data)
            return True

    _bytes_per_sample = 4
    _encode: Callable[[NDArray[np.float32]], bytes] | None = None


class _Output:
    """One run's output: trims to the start time, fills gaps with silence, applies the
    tempo, and queues the result labelled with media times."""

    def __init__(self, player: AudioPlayer, t: float, tempo: float, gen: int):
        self.p = player
        self.t = t
        self.gen = gen
        self.rate = player.rate
        self.emitted = t  # media time up to which audio was handed on
        self.tempo = tempo
        self.produced = 0  # samples queued (after the tempo change)
        self.lead = 0.0  # how far ahead of its count the output sounds (media s)
        self.tempo_filter: Tempo | None = None
        if abs(tempo - 1.0) > 1e-9:
            self.tempo_filter = Tempo(self.rate, player.channels, tempo)
            self.lead = self.tempo_filter.lead

    def place(self, data: NDArray[np.float32], start: float) -> None:
        """``data`` is the film's audio from media time ``start``."""
        end = self.p.end
        if end is not None and start + len(data) / self.rate > end:
            data = data[: max(0, round((end - start) * self.rate))]
            if not len(data):
                return
        if start < self.emitted:  # before the start time, or an overlap
            k = round((self.emitted - start) * self.rate)
            data = data[k:]
            if not len(data):
                return
        elif (gap := round((start - self.emitted) * self.rate)) > 0:
            # A gap (or the sound starts after the start time): silence, so the clock
            # runs through it and every later sample keeps its time.
            self._emit(np.zeros((gap, data.shape[1]), np.float32))
        self._emit(data)

    def _emit(self, data: NDArray[np.float32]) -> None:
        self.emitted += len(data) / self.rate
        if self.tempo_filter is None:
            self._queue(data)
            return
        for out in self.tempo_filter.push(data):
            self._queue(out)

    def _queue(self, data: NDArray[np.float32]) -> None:
        media = self.t + self.produced / self.rate * self.tempo + self.lead
        if self.p._enqueue(media, data, self.gen):
            self.produced += len(data)

    def flush(self) -> None:
        if self.tempo_filter is not None:
            for out in self.tempo_filter.flush():
                self._queue(out)


class AudioClock(MediaClock):
    """The media clock while there is sound: the time heard (see :class:`AudioTimeline`).

    ``start`` (the first picture of a run is up) releases the sound; pause, seek and
    speed go to the player, so sound and picture move together.
    """

    def __init__(self, player: AudioPlayer) -> None:
        super().__init__()
        self.player = player
        self._started = False

    @property
    def started(self) -> bool:
        return self._started

    def start(self, t: float) -> None:
        self._started = True
        self.player.release()

    def time(self) -> float | None:
        return self.player.time() if self._started else None

    def hold(self, t: float) -> None:
        """The sound leads: a late picture is dropped, the sound never waits."""

    def seek(self, t: float) -> None:
        self._started = False
        self.player.seek(t)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.player.set_paused(paused)

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)
        self.player.set_speed(speed)


def open_audio(
    url: str,
    stream_index: int,
    *,
    origin: float,
    end: float | None = None,
    volume: int,
    announce: Callable[[str], None],
) -> AudioPlayer | None:
    """An :class:`AudioPlayer` on the default device, or None (one warning line said
    why) when there is no device or the sound cannot be opened."""
    try:
        player = AudioPlayer(
            url, stream_index, origin=origin, end=end, volume=volume, announce=announce
        )
    except (SoundError, OSError) as exc:
        announce(f"sound: cannot open the audio ({_one_line(exc)}); playing silent")
        return None
    why = player.open_device()
    if why is not None:
        player.close()
        announce(f"sound: no audio device ({why}); playing silent")
        return None
    return player


# -- SDL through ctypes -----------------------------------------------------------------
def _sdl_library() -> Any:
    """The SDL2 library pygame loaded (ctypes calls let go of Python's lock), or None."""
    path = None
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                name = line.rsplit(" ", 1)[-1].strip()
                if "libSDL2-2" in os.path.basename(name) or os.path.basename(name).startswith(
                    "libSDL2.so"
                ):
                    path = name
                    break
    except OSError:
        pass
    path = path or ctypes.util.find_library("SDL2")
    if not path:
        return None
    try:
        lib = ctypes.CDLL(path)
        lib.SDL_GetCurrentAudioDriver.restype = ctypes.c_char_p
        lib.SDL_CloseAudioDevice.argtypes = [ctypes.c_uint32]
        lib.SDL_PauseAudioDevice.argtypes = [ctypes.c_uint32, ctypes.c_int]
        lib.SDL_QuitSubSystem.argtypes = [ctypes.c_uint32]
    except (OSError, AttributeError):
        return None
    return lib


def _encoder(fmt: int) -> Callable[[NDArray[np.float32]], bytes] | None:
    """Float samples in -1..1 to the bytes of SDL audio format ``fmt``."""
    bits = fmt & 0xFF
    if bits not in (8, 16, 32):
        return None
    order = ">" if fmt & 0x1000 else "<"
    if fmt & 0x100:  # float
        dtype = np.dtype(f"{order}f{bits // 8}")
        return lambda x: x.astype(dtype).tobytes()
    signed = bool(fmt & 0x8000)
    dtype = np.dtype(f"{order}{'i' if signed else 'u'}{bits // 8}")
    full = 2.0 ** (bits - 1) - 1
    offset = 0.0 if signed else full + 1

    def encode(x: NDArray[np.float32]) -> bytes:
        return (np.clip(x, -1.0, 1.0) * full + offset).astype(dtype).tobytes()

    return encode


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."
