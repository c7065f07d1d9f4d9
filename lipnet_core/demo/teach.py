"""What "Teach it your face" needs around the adaptation: the sentences to say, each recording made ready, the
adaptation job, and a new clip read by the published and the adapted network side by side.

Pages call these and render; nothing here imports Streamlit.
"""

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from lipnet_core.adaptation import ADAPTED_WEIGHTS, MIN_CLIPS, AdaptationClip, AdaptationRecipe, adapt
from lipnet_core.demo.job_queue import Job, JobQueue
from lipnet_core.demo.recordings import save_recording
from lipnet_core.demo.workspaces import SessionWorkspace
from lipnet_core.errors import LipNetError
from lipnet_core.grid_sentences import GRID_GRAMMAR
from lipnet_core.metrics import character_error_rate, word_error_rate
from lipnet_core.preprocessing import prepare_clip
from lipnet_core.uploads import check_upload, saved_upload, upload_suffix

PROMPT_COUNT = 10
MIN_RECORDINGS = MIN_CLIPS
RECORDING_SECONDS = 3.0
CROP = "detected"  # the same crop for the clips it learns from and the clips it reads
EPOCHS_VARIABLE = "LIPNET_ADAPT_EPOCHS"  # a smaller number of epochs, for tests and slow machines


def sentences_to_say(seed: int, count: int = PROMPT_COUNT) -> list[str]:
    """``count`` different GRID sentences, drawn with ``seed``; each letter at most once, so the few sentences cover
    as many of the 25 letters (the hardest word) as they can."""
    chooser = random.Random(seed)
    letters = chooser.sample(GRID_GRAMMAR[3], min(count, len(GRID_GRAMMAR[3])))
    letters += [chooser.choice(GRID_GRAMMAR[3]) for _ in range(count - len(letters))]
    return [" ".join([*(chooser.choice(slot) for slot in GRID_GRAMMAR[:3]), letter,
                      *(chooser.choice(slot) for slot in GRID_GRAMMAR[4:])]) for letter in letters]


def page_recipe() -> AdaptationRecipe:
    """The adaptation recipe, with ``$LIPNET_ADAPT_EPOCHS`` epochs when it is set."""
    epochs = os.environ.get(EPOCHS_VARIABLE)
    return AdaptationRecipe(epochs=int(epochs)) if epochs and epochs.isdigit() and int(epochs) > 0 else \
        AdaptationRecipe()


@dataclass
class TeachSession:
    """One browser session's sentences, prepared recordings and adaptation. Its files live in ``workspace``."""

    workspace: SessionWorkspace
    sentences: list[str]
    test_sentence: str
    clips: dict[int, AdaptationClip] = field(default_factory=dict)
    job: Job | None = None

    @classmethod
    def start(cls, seed: int, count: int = PROMPT_COUNT) -> "TeachSession":
        sentences = sentences_to_say(seed, count + 1)
        return cls(SessionWorkspace(), sentences[:count], sentences[count])

    def add_recording(self, index: int, data: bytes, mime_type: str) -> AdaptationClip:
        """A browser recording of sentence ``index``, converted, cropped and kept. Raises ClipError /
        FaceNotFoundError with a sentence to show."""
        path = save_recording(data, mime_type, self.workspace.file(f"sentence_{index:02d}.mp4"))
        return self._keep(index, path)

    def add_upload(self, index: int, data: bytes, filename: str) -> AdaptationClip:
        """An uploaded clip of sentence ``index`` (only the name's extension is used)."""
        check_upload(data, filename)
        with saved_upload(data, filename) as path:
            return self._keep(index, path)

    def _keep(self, index: int, path: Path) -> AdaptationClip:
        prepared = prepare_clip(path, CROP)
        clip = AdaptationClip(f"sentence {index + 1}", self.sentences[index], prepared.mouth_frames)
        self.clips[index] = clip
        return clip

    def save_test_recording(self, data: bytes, mime_type: str) -> Path:
        """The recording to read in step 3, converted into the workspace."""
        return save_recording(data, mime_type, self.workspace.file("read.mp4"))

    def save_test_upload(self, data: bytes, filename: str) -> Path:
        """The upload to read in step 3, written into the workspace (only the name's extension is used)."""
        check_upload(data, filename)
        path = self.workspace.file(f"read{upload_suffix(filename)}")
        path.write_bytes(data)
        return path

    @property
    def ready(self) -> bool:
        return len(self.clips) >= MIN_RECORDINGS

    def start_adaptation(self, queue: JobQueue, base_weights, recipe: AdaptationRecipe | None = None) -> Job:
        if not self.ready:
            raise LipNetError(f"Record at least {MIN_RECORDINGS} sentences first ({len(self.clips)} so far).")
        clips = [self.clips[index] for index in sorted(self.clips)]
        out_dir = self.workspace.file("adapted")
        recipe = recipe or page_recipe()
        self.job = queue.submit(lambda progress: adapt(clips, out_dir, recipe, base_weights, progress,
                                                       {"source": "browser recordings"}))
        return self.job

    @property
    def adapted_weights(self) -> Path | None:
        """The adapted weights file once the job is done."""
        if self.job is None or self.job.state != "done":
            return None
        path = self.workspace.file("adapted") / ADAPTED_WEIGHTS
        return path if path.is_file() else None


@dataclass(frozen=True)
class SideBySide:
    """One clip read by the published network and by the adapted one, against the sentence that was said."""

    truth: str
    published: object  # Reading
    adapted: object  # Reading

    def scores(self) -> dict[str, dict[str, float]]:
        return {
            name: {"WER": word_error_rate(self.truth, reading.text), "CER": character_error_rate(self.truth, reading.text)}
            for name, reading in (("published", self.published), ("adapted", self.adapted))
        }


def read_side_by_side(published_reader, adapted_reader, path: str | Path, truth: str) -> SideBySide:
    """Read the clip at ``path`` with both networks (GRID-grammar decoder, the detected crop), decoding it once."""
    prepared = prepare_clip(path, CROP)
    return SideBySide(
        truth=truth,
        published=published_reader.read_prepared(prepared, decoder="grid"),
        adapted=adapted_reader.read_prepared(prepared, decoder="grid"),
    )
