"""A PyTorch reference for training: ``nn.LSTM`` layers and a linear head,
trained with ``torch.optim.Adam`` (full batch, or minibatches in sklstm's
shuffled order) from the initial weights that sklstm documents, drawn here
independently of the package.

Quality tests fit an estimator and this reference in the same settings and
hold the estimator to the reference's error with a stated slack, so that a
model 10 % worse than what the same algorithm reaches fails.
"""

import numpy as np
import torch


def documented_initial_weights(n_features, hidden_sizes, n_outputs, seed):
    """The initial weights ``init_parameters`` documents, drawn here.

    Every array uniform on ``[-1/sqrt(H), 1/sqrt(H)]`` (``H``: the layer's
    hidden size; the last one for the head), drawn from
    ``RandomState(seed)`` in storage order (per layer ``weight_ih``,
    ``weight_hh``, ``bias``; then ``head_weight``, ``head_bias``), then
    ``+1`` on the forget-gate biases (the second of the four gate blocks
    input, forget, candidate, output). ``seed`` may be the ``RandomState``
    itself, which then goes on to shuffle the epochs as sklstm's does.
    """
    rng = (
        seed if isinstance(seed, np.random.RandomState) else np.random.RandomState(seed)
    )
    layers, n_inputs = [], n_features
    for hidden in hidden_sizes:
        bound = 1 / np.sqrt(hidden)
        layer = {
            "weight_ih": rng.uniform(-bound, bound, (4 * hidden, n_inputs)),
            "weight_hh": rng.uniform(-bound, bound, (4 * hidden, hidden)),
            "bias": rng.uniform(-bound, bound, 4 * hidden),
        }
        layer["bias"][hidden : 2 * hidden] += 1.0
        layers.append(layer)
        n_inputs = hidden
    bound = 1 / np.sqrt(hidden_sizes[-1])
    head_weight = rng.uniform(-bound, bound, (n_outputs, hidden_sizes[-1]))
    head_bias = rng.uniform(-bound, bound, n_outputs)
    return layers, head_weight, head_bias


def _loss(name, outputs, targets):
    if name == "squared_error":
        return 0.5 * ((outputs - targets) ** 2).mean()
    if name == "softmax_log_loss":
        return torch.nn.functional.cross_entropy(outputs, targets.argmax(dim=1))
    per_output = torch.nn.functional.binary_cross_entropy_with_logits(
        outputs, targets, reduction="none"
    )
    return per_output.sum(dim=1).mean()  # log_loss: summed over outputs


def _scikit_learn_epsilon(optimizer):
    """Make the next step of ``torch.optim.Adam`` scikit-learn's (and
    sklstm's): scikit-learn adds ``epsilon`` to ``sqrt(v)``, PyTorch to
    ``sqrt(v_hat) = sqrt(v) / sqrt(1 - beta_2**t)``, so PyTorch's epsilon
    of step ``t`` is ``epsilon / sqrt(1 - beta_2**t)``. (Without this, the
    predictions of a float64 LSTM of 16 units after one epoch of four
    minibatches differ from sklstm's by 6e-5, measured; with it, by 1e-16.)"""
    for group in optimizer.param_groups:
        group.setdefault("scikit_learn_epsilon", group["eps"])
        step = 1 + int(optimizer.state[group["params"][0]].get("step", 0))
        beta_2 = group["betas"][1]
        group["eps"] = group["scikit_learn_epsilon"] / np.sqrt(1 - beta_2**step)


class TorchReference:
    """An LSTM and head in PyTorch, fitted full batch by Adam.

    Parameters
    ----------
    n_features : int
    hidden_sizes : tuple of int
    n_outputs : int
    seed : int or RandomState
        The estimator's ``random_state``, or a ``RandomState`` that draws
        the initial weights and then shuffles the epochs (``fit``'s
        ``shuffle``), as the estimator's stream does.
    dtype : torch dtype
    """

    def __init__(self, n_features, hidden_sizes, n_outputs, seed, dtype):
        layers, head_weight, head_bias = documented_initial_weights(
            n_features, hidden_sizes, n_outputs, seed
        )
        self.dtype = dtype
        self.modules = []
        for layer in layers:
            module = torch.nn.LSTM(
                layer["weight_ih"].shape[1],
                layer["weight_hh"].shape[1],
                batch_first=True,
            ).to(dtype)
            with torch.no_grad():
                module.weight_ih_l0.copy_(torch.from_numpy(layer["weight_ih"]))
                module.weight_hh_l0.copy_(torch.from_numpy(layer["weight_hh"]))
                module.bias_ih_l0.copy_(torch.from_numpy(layer["bias"]))
                module.bias_hh_l0.zero_()
            module.bias_hh_l0.requires_grad_(False)  # sklstm has one bias
            self.modules.append(module)
        self.head_weight = torch.tensor(head_weight, dtype=dtype, requires_grad=True)
        self.head_bias = torch.tensor(head_bias, dtype=dtype, requires_grad=True)

    def weights(self):
        """The penalised weights (``alpha``): every matrix, no bias."""
        matrices = [m.weight_ih_l0 for m in self.modules]
        matrices += [m.weight_hh_l0 for m in self.modules]
        return [*matrices, self.head_weight]

    def parameters(self):
        biases = [module.bias_ih_l0 for module in self.modules]
        return [*self.weights(), *biases, self.head_bias]

    def outputs(self, X):
        sequence = torch.as_tensor(np.asarray(X), dtype=self.dtype)
        for module in self.modules:
            sequence, _ = module(sequence)
        return sequence[:, -1] @ self.head_weight.T + self.head_bias

    def fit(
        self,
        X,
        targets,
        *,
        loss,
        epochs,
        learning_rate,
        alpha=0.0,
        epsilon=1e-8,
        batch_size=None,
        shuffle=None,
    ):
        """``epochs`` of Adam on ``loss`` (sklstm's names) plus ``alpha / (2
        n_batch)`` times the squared weights, as sklstm's ``alpha``
        (scikit-learn's MLP penalty).

        Full batch by default; with ``batch_size``, minibatches of that many
        rows in the order of ``shuffle.permutation(n_samples)`` drawn at
        each epoch (a ``RandomState``; None: the given order), as sklstm
        takes them (``gen_batches``, the last batch shorter)."""
        targets = torch.as_tensor(np.asarray(targets), dtype=self.dtype)
        optimizer = torch.optim.Adam(self.parameters(), lr=learning_rate, eps=epsilon)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny matrices: threads only cost here
        try:
            self._run(X, targets, loss, epochs, optimizer, alpha, batch_size, shuffle)
        finally:
            torch.set_num_threads(threads)
        return self

    def _run(self, X, targets, loss, epochs, optimizer, alpha, batch_size, shuffle):
        X = np.asarray(X)
        n_samples = len(X)
        batch_size = batch_size or n_samples
        for _ in range(epochs):
            order = np.arange(n_samples)
            if shuffle is not None:
                order = shuffle.permutation(n_samples)
            for start in range(0, n_samples, batch_size):
                rows = order[start : start + batch_size]
                self._step(X[rows], targets[rows], loss, optimizer, alpha)

    def _step(self, X, targets, loss, optimizer, alpha):
        value = _loss(loss, self.outputs(X), targets)
        if alpha:
            squares = sum((weight**2).sum() for weight in self.weights())
            value = value + 0.5 * alpha / len(targets) * squares
        optimizer.zero_grad()
        value.backward()
        _scikit_learn_epsilon(optimizer)
        optimizer.step()

    def predict(self, X):
        """The network's output for ``X``, as a float64 ndarray."""
        with torch.no_grad():
            return self.outputs(X).double().numpy()

    def predict_proba(self, X, activation):
        """Probabilities from the logits: ``"softmax"`` over the outputs, or
        ``"logistic"`` per output."""
        logits = self.predict(X)
        if activation == "softmax":
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            return exp / exp.sum(axis=1, keepdims=True)
        return 1 / (1 + np.exp(-logits))
