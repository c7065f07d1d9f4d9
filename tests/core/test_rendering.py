import io

import imageio.v3 as iio
import numpy as np

from lipnet_core.crop_box import GRID_BOX
from lipnet_core.demo.rendering import GIF_SCALE, frame_with_box, mouth_gif, to_display_range
from lipnet_core.normalise import normalise_clip


def test_gif_has_every_frame_enlarged_and_stretched_to_full_range():
    rng = np.random.default_rng(0)
    model_input = normalise_clip(rng.integers(60, 120, (75, 46, 140), dtype=np.uint8))
    frames = iio.imread(io.BytesIO(mouth_gif(model_input)), index=None, extension=".gif")
    assert frames.shape[:3] == (75, 46 * GIF_SCALE, 140 * GIF_SCALE)
    display = to_display_range(model_input)
    assert display.min() == 0 and display.max() == 255
    grey = frames[..., 0] if frames.ndim == 4 else frames  # a grey GIF reads back as (T, H, W)
    np.testing.assert_array_equal(grey[10, ::GIF_SCALE, ::GIF_SCALE], display[10])  # nearest neighbour, lossless


def test_frame_with_box_draws_on_a_copy_in_rgb():
    frame = np.zeros((288, 360, 3), np.uint8)
    frame[..., 0] = 255  # BGR blue
    boxed = frame_with_box(frame, GRID_BOX)
    assert boxed[0, 0].tolist() == [0, 0, 255]  # RGB blue
    assert boxed[GRID_BOX.top, GRID_BOX.left + 10].tolist() == [0, 220, 0]
    assert frame[GRID_BOX.top, GRID_BOX.left + 10].tolist() == [255, 0, 0]
