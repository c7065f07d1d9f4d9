"""A webcam recorder (Streamlit custom component v2, the browser's MediaRecorder): one sentence, a countdown, a
fixed-length recording, replay and redo. Python receives each take once, as bytes."""

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

_HERE = Path(__file__).parent
_HTML = """
<div class="recorder">
  <div class="sentence"></div>
  <div class="videos">
    <div class="stage"><video class="preview" autoplay muted playsinline></video><div class="countdown"></div></div>
    <video class="replay" controls hidden></video>
  </div>
  <div class="controls"><button class="record" disabled>Record</button><span class="status">Starting the camera…</span></div>
</div>
"""
_component = st.components.v2.component(
    "lipnet_recorder",
    html=_HTML,
    css=(_HERE / "recorder.css").read_text(),
    js=(_HERE / "recorder.js").read_text(),
)


@dataclass(frozen=True)
class Take:
    """One recording: its bytes and the MIME type the browser gave them."""

    data: bytes
    mime_type: str


def recorder(sentence: str, seconds: float, recorded: bool, key: str) -> Take | None:
    """Show the recorder for ``sentence``; returns the new take in the rerun right after it was recorded, else None."""
    result = _component(key=key, data={"sentence": sentence, "seconds": seconds, "recorded": recorded},
                        on_clip_change=lambda: None)
    clip = getattr(result, "clip", None)
    if not isinstance(clip, dict) or not isinstance(clip.get("data"), str):
        return None
    try:
        data = base64.b64decode(clip["data"], validate=True)
    except (binascii.Error, ValueError):
        return Take(b"", str(clip.get("mime", "")))
    return Take(data, str(clip.get("mime", "")))
