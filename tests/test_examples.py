"""Smoke tests of every registered example and of the ``python -m examples`` runner.

Nothing here writes to the user's cache directory: runs pass ``--no-cache`` or a
``tmp_path`` cache, ``XDG_CACHE_HOME``/``HOME`` point into ``tmp_path``, and JAX's cache
settings are restored after each test.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `examples` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from examples import (  # noqa: E402  # noqa: E402
    _runner,
    autograd,
    digits_cnn,
    feedforward,
    jax_ideas,
    sequence_rnn,
    tensors,
    torch_weights,
    training,
    transfer_learning,
)
from examples._registry import ALL, EXAMPLES  # noqa: E402
from funcnn import _cache  # noqa: E402

EPOCH_LINE = re.compile(r"^Epoch (\d+), Loss: (\S+)$", re.MULTILINE)

# Examples that write files (weights, plots) write them here during the tests, not into runs/.
SMOKE_OUT = Path(tempfile.mkdtemp(prefix="funcnn-examples-"))
atexit.register(shutil.rmtree, SMOKE_OUT, ignore_errors=True)

# The smallest arguments that still exercise each example; every registered example
# needs an entry (checked below), so a new example gets a smoke test with its line.
SMOKE_ARGS = {
    "tensors": [],
    "autograd": ["--seed", "1"],
    "feedforward": ["--seed", "1", "--batch", "2"],
    "training": ["--epochs", "3", "--seed", "1"],
    "jax_ideas": ["--size", "32"],
    "data_parallel": ["--epochs", "1", "--batch-size", "32"],
    "digits_cnn": ["--epochs", "2", "--out", str(SMOKE_OUT / "digits_cnn")],
    "sequence_rnn": ["--epochs", "2", "--samples", "300", "--max-len", "8", "--out", str(SMOKE_OUT / "sequence_rnn")],
    "transfer_learning": [
        "--epochs",
        "2",
        "--pretrain-epochs",
        "1",
        "--shots",
        "2",
        "--out",
        str(SMOKE_OUT / "transfer"),
    ],
    "torch_weights": ["--epochs", "1", "--out", str(SMOKE_OUT / "torch_weights")],
    "lr_finder": ["--epochs", "1", "--steps", "12", "--out", str(SMOKE_OUT / "lr_finder")],
    "dcgan": ["--epochs", "1", "--batch-size", "128", "--nz", "8", "--ngf", "8", "--ndf", "8"],
    "resnet": ["--width", "4", "--image-size", "32", "--out", str(SMOKE_OUT / "resnet")],
}


@functools.cache
def output_of(name: str) -> str:
    """Run a registered example once with its `SMOKE_ARGS` and return what it printed."""
    module = importlib.import_module(next(e.module for e in EXAMPLES if e.name == name))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = module.main(SMOKE_ARGS[name])
    assert code == 0, printed.getvalue()
    assert "## " in printed.getvalue(), printed.getvalue()  # every example prints its sections
    return printed.getvalue()


# Examples whose output a dedicated test below reads through `output_of` (which runs the
# example once per process and checks it ran): `test_example_main_runs` leaves them to
# those tests, so that no example runs twice when pytest-xdist sends the generic and the
# dedicated test to different workers.
CHECKED_BELOW = {
    "tensors", "autograd", "feedforward", "training", "jax_ideas", "digits_cnn", "sequence_rnn",
    "transfer_learning", "torch_weights", "lr_finder", "dcgan", "resnet",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point the default cache dir into tmp_path and restore JAX's cache settings."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    before = (jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs)
    yield
    if (jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs) != before:
        _cache.disable_compilation_cache()
        jax.config.update("jax_compilation_cache_dir", before[0])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", before[1])


# ------------------------------------------------------------------------ registry
def test_registry_names_are_unique_and_distinct_from_groups():
    names = [e.name for e in EXAMPLES]
    assert len(names) == len(set(names))
    assert not set(names) & ({e.group for e in EXAMPLES} | {ALL})


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_registered_module_offers_the_example_interface(example):
    module = importlib.import_module(example.module)
    assert callable(module.main)
    assert module.build_parser().prog.endswith(example.module)
    assert example.name in SMOKE_ARGS, f"add smoke arguments for {example.name!r} to SMOKE_ARGS"


def test_seed_group_follows_the_article():
    examples, unknown = _runner.resolve(["seed"])
    assert [e.name for e in examples] == ["tensors", "autograd", "feedforward", "training", "jax_ideas"]
    assert unknown == []


def test_resolve_deduplicates_and_keeps_first_mention_order():
    examples, unknown = _runner.resolve(["training", "all", "nope", "tensors"])
    assert [e.name for e in examples][:2] == ["training", "tensors"]
    assert len(examples) == len(EXAMPLES)
    assert unknown == ["nope"]


# ------------------------------------------------------------------------ examples
@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.name not in CHECKED_BELOW], ids=lambda e: e.name)
def test_example_main_runs(example):
    assert "## " in output_of(example.name)


def test_every_example_runs_in_some_test():
    # An example in CHECKED_BELOW must have a test here that runs it through `output_of`.
    source = Path(__file__).read_text()
    names = {e.name for e in EXAMPLES}
    assert CHECKED_BELOW <= names, CHECKED_BELOW - names
    missing = sorted(n for n in CHECKED_BELOW if f'output_of("{n}")' not in source)
    assert not missing, f"no test reads the output of {missing}: remove them from CHECKED_BELOW"


def test_tensors_prints_the_articles_values():
    out = output_of("tensors")
    assert "[[1 2]\n [3 4]\n [5 6]]" in out
    assert "x + y = [5 7 9]" in out
    assert "x * y = [ 4 10 18]" in out
    assert "jnp.array([1, 2, 3]).dtype = int32" in out
    assert "jax.devices() = " in out
    assert "x[0] = 10 -> TypeError: JAX arrays are immutable" in out
    assert "y = [10  2  3], x is still [1 2 3]" in out


def test_tensors_functions_return_their_arrays(capsys):
    added, multiplied = tensors.arithmetic()
    assert added.tolist() == [5, 7, 9] and multiplied.tolist() == [4, 10, 18]
    assert tensors.dtypes().dtype == jnp.float32
    assert tensors.immutability().tolist() == [10, 2, 3]
    assert tensors.numpy_round_trip().flags.writeable


def test_autograd_prints_the_articles_gradient():
    lines = output_of("autograd").splitlines()
    assert lines[lines.index("jax.grad(lambda x: x ** 2)(2.0)") + 1] == "4.0"
    out = "\n".join(lines)
    assert "f' = 3x^2 = 12.0, f'' = 6x = 12.0, f''' = 6 = 6.0" in out
    assert "jacfwd and jacrev agree: True" in out
    assert "per-example gradients (8, 3)" in out
    assert "their mean equals the gradient of the mean loss: True" in out


def test_autograd_values(capsys):
    assert float(autograd.first_derivative()) == 4.0
    assert autograd.higher_order() == [12.0, 12.0, 6.0]
    np.testing.assert_allclose(autograd.jacobian(), [[2.0, 1.0], [np.cos(1.0), 0.0], [0.0, 4.0]], rtol=1e-6)
    assert autograd.per_example_gradients(seed=0, batch=5).shape == (5, 3)


def test_feedforward_prints_torch_state_dict_keys():
    out = output_of("feedforward")
    for key, shape in [
        ("hidden.weight", "(10, 3)"),
        ("hidden.bias", "(10,)"),
        ("output.weight", "(1, 10)"),
        ("output.bias", "(1,)"),
    ]:
        assert re.search(rf"^  {re.escape(key)} +{re.escape(shape)} +float32$", out, re.MULTILINE), key
    assert "(hidden): Linear(in_features=3, out_features=10, bias=True)" in out
    assert "51 parameters" in out
    assert "same keys as the Sequential version: True; same initial values: True" in out
    assert "equals the Sequential's output: True" in out


def test_feedforward_matches_torch_module_layout(capsys):
    torch = pytest.importorskip("torch")
    model, params, x, y = feedforward.show_sequential(seed=0, batch=3)
    reference = torch.nn.Sequential(
        OrderedDict(hidden=torch.nn.Linear(3, 10), relu=torch.nn.ReLU(), output=torch.nn.Linear(10, 1))
    )
    import funcnn

    state = {k: torch.from_numpy(v) for k, v in funcnn.state_dict(params).items()}
    reference.load_state_dict(state)  # strict: same keys and shapes
    with torch.no_grad():
        expected = reference(torch.from_numpy(np.array(x))).numpy()
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-5, atol=1e-6)


def test_training_prints_one_line_per_epoch_and_agrees():
    out = output_of("training")  # --epochs 3
    loop_part, fused_part = out.split("## The same")
    assert [int(n) for n, _ in EPOCH_LINE.findall(loop_part)] == [1, 2, 3]
    assert [int(n) for n, _ in EPOCH_LINE.findall(fused_part)] == [1, 3]
    assert "losses agree at every epoch: True; final weights agree: True" in out


def test_training_matches_the_articles_torch_loop(capsys):
    torch = pytest.importorskip("torch")
    import funcnn

    epochs = 5
    input_data, target_data, model_key = training.make_data(seed=0)
    model, params, optimizer, opt_state, step = training.setup(model_key)
    reference = torch.nn.Sequential(
        OrderedDict(hidden=torch.nn.Linear(3, 10), relu=torch.nn.ReLU(), output=torch.nn.Linear(10, 1))
    )
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in funcnn.state_dict(params).items()})
    _, losses = training.train_loop(step, params, opt_state, input_data, target_data, epochs)

    x = torch.from_numpy(np.array(input_data))
    y = torch.from_numpy(np.array(target_data))
    loss_function = torch.nn.MSELoss()
    torch_optimizer = torch.optim.SGD(reference.parameters(), lr=0.01)
    expected = []
    for _ in range(epochs):
        loss = loss_function(reference(x), y)
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()
        expected.append(loss.item())
    np.testing.assert_allclose(losses, expected, rtol=1e-5)


def test_training_data_follows_the_seed():
    a, b, _ = training.make_data(seed=5)
    c, d, _ = training.make_data(seed=5)
    e, _, _ = training.make_data(seed=6)
    assert a.shape == (100, 3) and b.shape == (100, 1) and a.dtype == jnp.float32
    assert np.array_equal(a, c) and np.array_equal(b, d) and not np.array_equal(a, e)


def test_jax_ideas_shows_tracing_and_control_flow():
    out = output_of("jax_ideas")
    lines = out.splitlines()
    first = lines.index("call 1, float32[3]:")
    assert lines[first + 1].startswith("  (Python print while tracing")
    assert lines[first + 2] == "  (jax.debug.print on every call: total = 6.0)"
    second = lines.index("call 2, float32[3] again, so the compiled program is reused:")
    assert lines[second + 1] == "  (jax.debug.print on every call: total = 6.0)"  # no second trace
    assert "traced 3 times for 4 calls" in out
    assert "TracerBoolConversionError" in out
    assert "traced for n in [3, 5]" in out
    assert "50 equations; lax.fori_loop -> 1 equation(s); same result: True" in out
    assert f"default backend {jax.default_backend()!r}" in out


def test_jax_ideas_values(capsys):
    assert jax_ideas.tracing() == 3
    assert jax_ideas.control_flow().tolist() == [0.0, 3.0]
    assert jax_ideas.loops(steps=7) == (7, 1)
    dispatch_ms, ready_ms = jax_ideas.async_dispatch(size=16, repeats=2)
    assert 0 <= dispatch_ms <= ready_ms


# --------------------------------------------------------------- workflow examples
def test_digits_cnn_trains_saves_and_reloads():
    out = output_of("digits_cnn")  # --epochs 2
    epoch_line = r"^Epoch (\d+)/2: loss \S+ - accuracy \S+ - val_loss \S+ - val_accuracy \S+"
    assert [int(n) for n in re.findall(epoch_line, out, re.MULTILINE)] == [1, 2]
    assert re.search(r"^test accuracy: 0\.\d{4} \(\d+/359 images\)$", out, re.MULTILINE)
    assert "wrote " in out and "features.1.running_mean (16,)" in out
    assert "reloaded weights give the same test accuracy: True" in out
    assert (SMOKE_OUT / "digits_cnn" / "digits_cnn.safetensors").is_file()
    assert (SMOKE_OUT / "digits_cnn" / "curves.png").stat().st_size > 0


@pytest.mark.usefixtures("optimized_xla")  # 15 epochs of training: 9x longer unoptimised
def test_digits_cnn_reaches_97_percent_at_the_defaults(tmp_path, capsys):
    assert digits_cnn.main(["--fused", "--out", str(tmp_path)]) == 0  # fused: the same batches, faster
    accuracy = float(re.search(r"^test accuracy: (\S+) ", capsys.readouterr().out, re.MULTILINE).group(1))
    assert accuracy >= 0.97


def test_digits_cnn_model_matches_torch_layout():
    torch = pytest.importorskip("torch")
    import funcnn

    model = digits_cnn.DigitsCNN()
    reference = torch.nn.Sequential(
        OrderedDict(
            features=torch.nn.Sequential(
                torch.nn.Conv2d(1, 16, 3, padding=1),
                torch.nn.BatchNorm2d(16),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(16, 32, 3, padding=1),
                torch.nn.BatchNorm2d(32),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
                torch.nn.Flatten(),
            ),
            classifier=torch.nn.Sequential(
                torch.nn.Dropout(0.25),
                torch.nn.Linear(128, 64),
                torch.nn.ReLU(),
                torch.nn.Dropout(0.25),
                torch.nn.Linear(64, 10),
            ),
        )
    )
    ours = funcnn.state_dict(model.init(jax.random.key(0)), model.init_state())
    theirs = reference.state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_digits_cnn_split_is_fixed_by_the_seed():
    a = digits_cnn.load_split(0)
    b = digits_cnn.load_split(0)
    assert [len(s[1]) for s in a] == [1258, 180, 359]
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert not np.array_equal(digits_cnn.load_split(1)[2][1], a[2][1])


def test_sequence_rnn_beats_chance_output():
    out = output_of("sequence_rnn")  # 300 sequences of 5-8 tokens, 2 epochs
    assert "## The task: recall the first of 5-8 tokens" in out
    assert re.search(r"^LSTM test accuracy +0\.\d{4}$", out, re.MULTILINE)
    assert re.search(r"^chance \(1/8\) +0\.1250$", out, re.MULTILINE)
    assert re.search(r"^  length +5-8: \S+ of 60$", out, re.MULTILINE)
    assert (SMOKE_OUT / "sequence_rnn" / "curves.png").is_file()


def test_sequence_rnn_data_is_padded_and_labelled_by_the_first_token():
    tokens, labels = sequence_rnn.make_sequences(200, vocab=5, min_len=3, max_len=9, seed=1)
    assert tokens.shape == (200, 9) and tokens.dtype == np.int32 and labels.dtype == np.int32
    lengths = (tokens != 0).sum(axis=1)
    assert lengths.min() >= 3 and lengths.max() <= 9 and len(set(lengths.tolist())) > 3
    for row, n in zip(tokens, lengths):  # padding only after the sequence
        assert (row[:n] > 0).all() and (row[n:] == 0).all() and row.max() <= 5
    np.testing.assert_array_equal(labels, tokens[:, 0] - 1)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sequence_classifier_reads_each_sequence_to_its_own_end(cell):
    model = sequence_rnn.SequenceClassifier(vocab=4, embed_dim=3, hidden_size=5, cell=cell)
    params = model.init(jax.random.key(0))
    tokens = jnp.array([[1, 2, 3, 0, 0], [4, 1, 0, 0, 0]], dtype=jnp.int32)
    logits = model.apply(params, tokens)
    assert logits.shape == (2, 4)
    alone = model.apply(params, tokens[1:, :2])  # the same sequence without padding
    np.testing.assert_allclose(logits[1:], alone, rtol=1e-5, atol=1e-6)


def test_sequence_classifier_matches_torch_layout():
    torch = pytest.importorskip("torch")
    import funcnn

    class Reference(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(9, 16, padding_idx=0)
            self.rnn = torch.nn.LSTM(16, 64, batch_first=True)
            self.head = torch.nn.Linear(64, 8)

    ours = funcnn.state_dict(sequence_rnn.SequenceClassifier().init(jax.random.key(0)))
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in Reference().state_dict().items()}


def test_transfer_learning_swaps_the_head_and_freezes_the_body():
    out = output_of("transfer_learning")  # 2 shots per class, 2 epochs
    assert "fine-tuning on 10 images of 5-9 (2 per class)" in out
    assert "loaded 6 of 8 weights\nfreshly initialised: classifier.4.weight, classifier.4.bias" in out
    frozen = "features.0.weight, features.0.bias, features.3.weight, features.3.bias"
    assert f"frozen (no gradient, no update, no optimizer state): {frozen}" in out
    for name in ("head only", "scratch", "everything"):
        assert re.search(rf"^ *{name}: 0\.\d{{4}}$", out, re.MULTILINE), name
    assert re.search(r"^ +epoch 2 +epoch 2$", out, re.MULTILINE)
    verdict = (
        r"^best: (head only|scratch|everything); with 2 images per class the frozen pretrained features "
        r"(beat|did not beat) training from scratch \([+-]\d+\.\d points\)$"
    )
    assert re.search(verdict, out, re.MULTILINE)
    assert (SMOKE_OUT / "transfer" / "curves.png").is_file()


def test_transfer_learning_data_helpers():
    images = np.arange(40, dtype=np.float32).reshape(20, 1, 2, 1)
    labels = np.repeat(np.arange(10, dtype=np.int32), 2)
    high = transfer_learning.digits_between((images, labels), 5, 9)
    assert sorted(high[1].tolist()) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4] and high[0].shape == (10, 1, 2, 1)
    few = transfer_learning.few_shots(high, 1, seed=0)
    assert sorted(few[1].tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=r"few_shots: class 0 has 2 images, fewer than per_class=3"):
        transfer_learning.few_shots(high, 3, seed=0)


def test_torch_weights_gives_the_same_predictions():
    pytest.importorskip("torch")
    out = output_of("torch_weights")  # 1 epoch
    diff = float(re.search(r"^max \|torch - funcnn\| logit difference: (\S+)$", out, re.MULTILINE).group(1))
    assert diff < 1e-4
    assert "predicted classes agree: 100.0%" in out
    assert re.search(r"^  1\.num_batches_tracked +\(\) +int64$", out, re.MULTILINE)  # torch's buffer, as saved
    assert "state:  1.running_mean (8,), 1.running_var (8,), 1.num_batches_tracked ()" in out  # torch's order
    assert re.search(r"\(strict\): max difference \S+, classes agree 100\.0%$", out, re.MULTILINE)


def test_torch_weights_explains_itself_without_torch(monkeypatch, capsys):
    real = torch_weights.importlib.util.find_spec
    hide_torch = lambda name, *a: None if name == "torch" else real(name, *a)  # noqa: E731
    monkeypatch.setattr(torch_weights.importlib.util, "find_spec", hide_torch)
    assert torch_weights.main([]) == 0
    assert "PyTorch is not installed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "module, argv, message",
    [
        (digits_cnn, ["--dropout", "1.5"], "argument --dropout: expected a probability in [0, 1), got 1.5"),
        (digits_cnn, ["--batch-size", "0"], "argument --batch-size: expected a positive whole number, got 0"),
        (sequence_rnn, ["--max-len", "3"], "argument --max-len: expected at least 5, got 3"),
        (sequence_rnn, ["--cell", "transformer"], "argument --cell: invalid choice: 'transformer'"),
        (transfer_learning, ["--shots", "0"], "argument --shots: expected a positive whole number, got 0"),
        (torch_weights, ["--epochs", "0"], "argument --epochs: expected a positive whole number, got 0"),
    ],
    ids=["digits-dropout", "digits-batch", "rnn-max-len", "rnn-cell", "transfer-shots", "torch-epochs"],
)
def test_workflow_example_rejects_bad_flags(module, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "module, argv, message",
    [
        (training, ["--epochs", "0"], "argument --epochs: expected a positive whole number, got 0"),
        (training, ["--epochs", "many"], "argument --epochs: expected a positive whole number, got 'many'"),
        (feedforward, ["--batch", "-1"], "argument --batch: expected a positive whole number, got -1"),
        (jax_ideas, ["--size", "0"], "argument --size: expected a positive whole number, got 0"),
        (tensors, ["--epochs", "3"], "unrecognized arguments: --epochs 3"),
    ],
    ids=["epochs-zero", "epochs-text", "batch-negative", "size-zero", "tensors-no-flags"],
)
def test_example_rejects_bad_flags(module, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# -------------------------------------------------------------------------- runner
@pytest.mark.parametrize("argv", [[], ["list"]], ids=["bare", "list"])
def test_runner_lists_every_example(argv, capsys):
    assert _runner.main(argv) == 0
    out = capsys.readouterr().out
    for example in EXAMPLES:
        assert re.search(rf"^  {example.name} +{example.group} +{re.escape(example.description)}$", out, re.MULTILINE)
    assert "groups: all, seed" in out


def test_runner_runs_examples_with_banners_and_passes_flags(capsys):
    assert _runner.main(["run", "tensors", "training", "--epochs", "2", "--seed", "4", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert f"JAX {jax.__version__} | backend {jax.default_backend()} | devices: " in out
    assert "compilation cache: off (--no-cache)" in out
    assert "======== [1/2] tensors: " in out  # tensors takes neither flag
    assert "======== [2/2] training (--epochs 2 --seed 4): " in out
    assert re.search(r"^-------- tensors: done in \d+\.\d\d s --------$", out, re.MULTILINE)
    assert re.search(r"^-------- training: done in \d+\.\d\d s --------$", out, re.MULTILINE)
    training_part = out.split("[2/2] training")[1].split("## The same")[0]
    assert [int(n) for n, _ in EPOCH_LINE.findall(training_part)] == [1, 2]
    assert "ran 2 example(s) in" in out


def test_runner_reports_a_failing_example(capsys, monkeypatch):
    monkeypatch.setattr(tensors, "main", lambda argv: 3)
    assert _runner.main(["run", "tensors", "--no-cache"]) == 3
    assert "-------- tensors: FAILED with exit status 3 in" in capsys.readouterr().out


def test_runner_unknown_name_lists_valid_names(capsys):
    assert _runner.main(["run", "tensors", "nope", "--no-cache"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    assert "unknown example 'nope'; expected one of tensors, autograd, feedforward, training, jax_ideas" in captured.err
    assert "or a group: all, seed" in captured.err


def test_runner_unknown_names_are_all_reported(capsys):
    assert _runner.main(["run", "nope", "nada", "--no-cache"]) == 2
    assert "unknown examples 'nope', 'nada'; expected one of" in capsys.readouterr().err


def test_runner_refuses_no_cache_with_cache_dir(tmp_path, capsys):
    assert _runner.main(["run", "tensors", "--no-cache", "--cache-dir", str(tmp_path)]) == 2
    assert "--no-cache and --cache-dir contradict each other; pass one" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run"], "the following arguments are required: NAME"),
        (["run", "training", "--epochs", "0"], "argument --epochs: expected a positive whole number, got 0"),
        (["walk"], "invalid choice: 'walk'"),
    ],
    ids=["no-names", "bad-epochs", "bad-command"],
)
def test_runner_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _runner.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_runner_enables_the_cache_in_the_given_dir(tmp_path, capsys):
    cache_dir = tmp_path / "cache"
    assert _runner.main(["run", "tensors", "--cache-dir", str(cache_dir)]) == 0
    assert f"compilation cache: {cache_dir.resolve()}" in capsys.readouterr().out
    assert jax.config.jax_compilation_cache_dir == str(cache_dir.resolve())
    jax.jit(lambda x: x * 7.25 - 1.5)(jnp.ones(7)).block_until_ready()  # a program not compiled before
    assert any(cache_dir.iterdir())


def test_runner_enables_the_default_cache_under_xdg(tmp_path, capsys):
    assert _runner.main(["run", "tensors"]) == 0
    expected = tmp_path / "xdg-cache" / "funcnn" / "jax-cache"
    assert f"compilation cache: {expected.resolve()}" in capsys.readouterr().out
    assert expected.is_dir()


def test_runner_runs_without_cache_when_the_dir_is_unusable(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert _runner.main(["run", "tensors", "--cache-dir", str(blocker / "cache")]) == 0
    assert f"compilation cache: off (cannot use {blocker / 'cache'}: " in capsys.readouterr().out
    assert jax.config.jax_compilation_cache_dir != str(blocker / "cache")


def test_python_dash_m_examples_exits_with_the_runners_status(tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "examples", "run", "nope", "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "unknown example 'nope'" in result.stderr


# ---------------------------------------------------------------- funcnn._cache
def test_default_cache_dir_follows_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.default_cache_dir() == tmp_path / "xdg" / "funcnn" / "jax-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache.default_cache_dir() == tmp_path / "home" / ".cache" / "funcnn" / "jax-cache"


def test_enable_compilation_cache_sets_jax_config(tmp_path):
    path = _cache.enable_compilation_cache(tmp_path / "new" / "dir")
    assert path == (tmp_path / "new" / "dir").resolve() and path.is_dir()
    assert (path.stat().st_mode & 0o777) == 0o700
    assert jax.config.jax_compilation_cache_dir == str(path)
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
    _cache.disable_compilation_cache()
    assert jax.config.jax_compilation_cache_dir is None


def test_enable_compilation_cache_rejects_bad_path():
    with pytest.raises(
        TypeError, match=r"enable_compilation_cache: expected a directory as a str or os.PathLike, got int"
    ):
        _cache.enable_compilation_cache(3)  # type: ignore[arg-type]


def test_enable_compilation_cache_rejects_negative_time(tmp_path):
    with pytest.raises(
        ValueError, match=r"`min_compile_time_secs` must be >= 0, got -1.0; use 0 to cache every program"
    ):
        _cache.enable_compilation_cache(tmp_path, min_compile_time_secs=-1.0)


def test_lr_finder_finds_a_rate_and_logs_every_step():
    out = output_of("lr_finder")  # 12 range-test steps, 1 epoch per comparison run
    assert re.search(
        r"^12 steps in [0-9.]+ s \(all steps ran\)$|^\d+ steps in [0-9.]+ s \(the loss diverged\)$", out, re.M
    )
    assert re.search(r"^suggested learning rate: \S+ \(lowest smoothed loss at \S+\)$", out, re.M)
    rows = (SMOKE_OUT / "lr_finder" / "steps.csv").read_text().splitlines()
    assert rows[0] == "step,epoch,batch,loss,accuracy" and len(rows) == 1 + 23  # 1438 images in batches of 64


def test_dcgan_trains_both_models_and_updates_batchnorm_as_pytorch():
    out = output_of("dcgan")  # 1 epoch of 1797 // 128 = 14 iterations
    losses = re.search(r"^\[1/1\] Loss_D: (\S+) Loss_G: (\S+) D\(x\): (\S+)", out, re.M)
    assert losses and all(np.isfinite(float(v)) for v in losses.groups())
    assert "BatchNorm updates: netG 14 (one per iteration), netD 42 (three per iteration)" in out
    from examples import dcgan

    params = dcgan.weights_init(dcgan.Discriminator(8).init(jax.random.key(0)), jax.random.key(1))
    assert abs(float(params["main"]["0"]["weight"].std()) - 0.02) < 0.005
    np.testing.assert_array_equal(params["main"]["3"]["bias"], 0.0)


def test_resnet_example_writes_torchvision_keys_and_classifies():
    out = output_of("resnet")
    assert "122 state_dict keys, in torchvision's order" in out and "  layer1.0.conv1.weight" not in out
    assert "  conv1.weight\n  bn1.weight\n" in out and "  fc.bias\n" in out
    assert re.search(r"logits \(4, 10\); predicted classes \[\d, \d, \d, \d\]", out)
    assert (SMOKE_OUT / "resnet" / "resnet18.safetensors").is_file()
