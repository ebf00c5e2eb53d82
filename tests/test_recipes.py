"""The source studies' base configurations are what their specs say (seed 000, spec §0.2–0.6)."""

from rnnbook.recipes import modcog_spec
from rnnbook.runs import build_model


def test_modcog_spec_is_the_seeds_model_perf_configuration():
    spec = modcog_spec()
    model, train, task = spec.model_config, spec.train_config, spec.task_config
    assert (model.n_rec, model.e_frac, model.recurrence, model.e_units) == (
        256,
        0.8,
        "dale",
        "random",
    )
    assert (model.activation, model.softplus_beta, model.leak, model.tau) == (
        "softplus",
        10.0,
        1.0,
        None,
    )
    assert (model.init, model.init_norm, model.spectral_radius) == ("eirnn", "singular_value", 1.2)
    assert (train.optimizer, train.lr, train.lr_other, train.momentum) == ("eg", 0.2, 0.1, 0.9)
    assert (train.weight_decay, train.grad_clip, train.loss, train.label_smoothing) == (
        1e-5, 1.0, "modcog", 0.1
    )  # fmt: skip
    assert [(p.name, p.weight) for p in train.penalties] == [("fixation_down", 0.5)]
    assert (task.tasks, task.loss_on, task.pool, task.labels) == (("dm1",), "trial", 0, "original")
    assert train.record_accuracy and spec.resolved_model_config.n_in == 33


def test_modcog_spec_options_reach_the_configs():
    spec = modcog_spec(n_rec=32, optimizer="sgd", lr=0.1, pool_trials=512, row_sum_weight=0.5)
    assert spec.task_config.pool == 512 and spec.task_config.pool_part == "train"
    assert [(p.name, p.weight, dict(p.options)) for p in spec.train_config.penalties] == [
        ("fixation_down", 0.5, {}),
        ("row_sum", 0.5, {"per_sign": True}),
    ]
    model = build_model(spec)
    signs = model.recurrence.signs
    assert int((signs > 0).sum()) == round(0.8 * 32)
