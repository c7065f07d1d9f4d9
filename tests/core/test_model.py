import numpy as np

from lipnet_core.model import REFERENCE_PARAMETER_COUNT, build_model, layer_table

REFERENCE_SUMMARY = [  # (layer type, output shape without batch, parameters) from the reference notebook's summary
    ("Conv3D", (75, 46, 140, 128), 3584),
    ("Activation", (75, 46, 140, 128), 0),
    ("MaxPooling3D", (75, 23, 70, 128), 0),
    ("Conv3D", (75, 23, 70, 256), 884992),
    ("Activation", (75, 23, 70, 256), 0),
    ("MaxPooling3D", (75, 11, 35, 256), 0),
    ("Conv3D", (75, 11, 35, 75), 518475),
    ("Activation", (75, 11, 35, 75), 0),
    ("MaxPooling3D", (75, 5, 17, 75), 0),
    ("TimeDistributed", (75, 6375), 0),
    ("Bidirectional", (75, 256), 6660096),
    ("Dropout", (75, 256), 0),
    ("Bidirectional", (75, 256), 394240),
    ("Dropout", (75, 256), 0),
    ("Dense", (75, 41), 10537),
]


def test_reference_architecture_layer_by_layer():
    model = build_model()
    assert model.count_params() == REFERENCE_PARAMETER_COUNT == 8_471_924
    actual = [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]
    assert actual == REFERENCE_SUMMARY
    assert model.layers[10].forward_layer.units == 128
    assert type(model.layers[10].forward_layer.kernel_initializer).__name__ == "Orthogonal"
    assert type(model.layers[-1].kernel_initializer).__name__ == "HeNormal"


def test_layer_table_rows():
    rows = layer_table(build_model())
    assert [row["name"] for row in rows][:3] == ["conv3d", "activation", "max_pooling3d"]
    assert sum(row["parameters"] for row in rows) == 8_471_924
    assert rows[-1]["output_shape"] == "(batch, 75, 41)"


def test_length_agnostic_model_gives_probabilities_per_frame():
    model = build_model(num_frames=None)
    probabilities = np.asarray(model(np.random.default_rng(0).normal(size=(1, 30, 46, 140, 1)).astype("float32")))
    assert probabilities.shape == (1, 30, 41)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)
