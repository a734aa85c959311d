"""Webcams: ``webcam:N`` specs to FFmpeg devices, and listing the devices there are."""

from __future__ import annotations

import platform
from pathlib import Path

__all__ = ["list_devices", "webcam_input"]


def webcam_input(spec: str, framerate: float | None, size: str | None) -> tuple[str, str, dict]:
    """FFmpeg input name, format and options for ``webcam:N`` on this platform."""
    options: dict[str, str] = {}
    if framerate:
        options["framerate"] = f"{framerate:g}"
    if size:
        options["video_size"] = size
    system = platform.system()
    if system == "Darwin":
        options.setdefault("framerate", "30")
        return (spec if not spec.isdigit() else f"{spec}:none"), "avfoundation", options
    if system == "Windows":
        return f"video={spec}", "dshow", options
    device = f"/dev/video{spec}" if spec.isdigit() else spec
    return device, "v4l2", options


def list_devices() -> list[tuple[str, str]]:
    """Video capture devices as ``(spec, description)`` pairs for ``webcam:`` specs."""
    system = platform.system()
    out: list[tuple[str, str]] = []
    if system == "Linux":
        for dev in sorted(Path("/dev").glob("video*"), key=lambda p: (len(p.name), p.name)):
            name_file = Path("/sys/class/video4linux") / dev.name / "name"
            try:
                desc = name_file.read_text().strip()
            except OSError:
                desc = "video device"
            n = dev.name.removeprefix("video")
            out.append((f"webcam:{n}" if n.isdigit() else f"webcam:{dev}", f"{desc} ({dev})"))
        return out
    fmt = "avfoundation" if system == "Darwin" else "dshow"
    try:
        import av.error
        from av.device import enumerate_input_devices
    except ImportError:  # older PyAV
        return out
    try:
        devices = enumerate_input_devices(fmt)
    except (av.error.FFmpegError, OSError, ValueError):
        return out
    for i, d in enumerate(d for d in devices if "video" in (d.media_types or ["video"])):
        key = str(i) if system == "Darwin" else d.name
        out.append((f"webcam:{key}", d.description or d.name))
    return out


# ---------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------
