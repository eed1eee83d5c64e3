"""
Tuning the window and the hidden size with GridSearchCV
=======================================================

How many past hours should the LSTM see, and how large should it be? A
:class:`~sklearn.model_selection.GridSearchCV` answers both at once, over the
parameters of the pipeline's steps: ``win__window`` of the
:class:`~sklstm.SequenceWindower` and ``lstm__hidden_layer_sizes`` of the
:class:`~sklstm.LSTMRegressor`. The folds come from
:class:`~sklearn.model_selection.TimeSeriesSplit`, so every candidate is
trained on the past and scored on the future, and ``n_jobs=2`` runs two fits
at a time.
"""

# %%
# A noisy daily cycle
# -------------------
# Fifty days of an hourly series: a daily and a weekly cycle under heavy
# noise. The last few hours alone say little about where in its cycle the
# series is; a longer window lets the model average the noise out.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

rng = np.random.default_rng(1)
t = np.arange(50 * 24)
cycle = np.sin(2 * np.pi * t / 24) + 0.6 * np.sin(2 * np.pi * t / (24 * 7))
series = cycle + rng.normal(0, 0.4, len(t))

data = pd.DataFrame({"value": series})
from sklstm import make_supervised

X, y = make_supervised(data, "value", horizon=1)

# The last 200 rows are kept apart to test the chosen model.
split = len(X) - 200
X_train, y_train = X.iloc[:split], y.iloc[:split]

# %%
# The search
# ----------
# Four candidates, three time-ordered folds: twelve fits, two at a time, then
# one refit of the best candidate on all the training rows. Each fit is
# seeded, so the search finds the same scores with any ``n_jobs``.

from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from sklstm import LSTMRegressor, SequenceWindower

pipeline = Pipeline(
    [
        ("win", SequenceWindower()),
        (
            "lstm",
            LSTMRegressor(
                learning_rate_init=0.01, batch_size=64, max_iter=15, random_state=0
            ),
        ),
    ]
)
param_grid = {
    "win__window": [3, 24],
    "lstm__hidden_layer_sizes": [(4,), (16,)],
}
cv = TimeSeriesSplit(n_splits=3)
search = GridSearchCV(pipeline, param_grid, cv=cv, n_jobs=2)

search.fit(X_train, y_train)  # 15 epochs are enough to rank the candidates

# %%
# The results table
# -----------------
# ``cv_results_`` holds, for each candidate, the R² on each test fold, their
# mean and spread, and the fit times.

results = pd.DataFrame(search.cv_results_)
table = results[
    [
        "param_win__window",
        "param_lstm__hidden_layer_sizes",
        "mean_test_score",
        "std_test_score",
        "mean_fit_time",
        "rank_test_score",
    ]
].sort_values("rank_test_score")
table.columns = ["window", "hidden", "mean R²", "std R²", "fit time (s)", "rank"]
table.round(3)

# %%
print("best:", search.best_params_)

# %%
# The windows of the first rows of each test fold are padded rather than
# filled with their real history (a fold gives the pipeline its own rows
# only). That costs every candidate alike, so the ranking holds.
#
# Mean R² by window and hidden size: the window matters more than the size
# of the network here.

scores = results.pivot_table(
    index="param_win__window",
    columns=results["param_lstm__hidden_layer_sizes"].map(lambda sizes: sizes[0]),
    values="mean_test_score",
)
fig, ax = plt.subplots(figsize=(5, 3.5))
image = ax.imshow(scores.to_numpy(), cmap="viridis")
ax.set_xticks(range(scores.shape[1]), scores.columns)
ax.set_yticks(range(scores.shape[0]), scores.index)
ax.set_xlabel("lstm__hidden_layer_sizes (one layer)")
ax.set_ylabel("win__window")
for (i, j), value in np.ndenumerate(scores.to_numpy()):
    ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="w")
fig.colorbar(image, label="mean R² over the folds")
ax.set_title("TimeSeriesSplit, 3 folds")
fig.tight_layout()
plt.show()

# %%
# The chosen model on the held-out rows
# -------------------------------------
# ``search`` was refitted on all the training rows with the best parameters.
# Its windows for the held-out rows need the rows just before them, so it is
# given the ``window - 1`` previous rows as history.

window = search.best_params_["win__window"]
y_pred = search.predict(X.iloc[split - (window - 1) :])[window - 1 :]
from sklearn.metrics import r2_score

print(f"held-out R²: {r2_score(y.iloc[split:], y_pred):.3f}")
