"""
When one machine is not enough: a Dask cluster
==============================================

Three ways to spread LSTM work over the workers of a Dask cluster, each run
here on a small local cluster that stands in for a real one
(:doc:`/scale_out` says what each costs):

1. a hyper-parameter search, through joblib's Dask backend;
2. the seeds of the Beijing study, through the same backend;
3. out-of-core training: dask-ml's ``Incremental`` streams the blocks of a
   Dask array of flattened windows to :meth:`~sklstm.LSTMRegressor.partial_fit`,
   so the training set never has to fit in one machine's memory.

The workers need sklstm and the same versions of NumPy and scikit-learn
as the client; out-of-core training also needs dask-ml
(``pip install dask-ml``).
"""

# %%
# A cluster
# ---------
# On a real cluster, connect to its scheduler instead:
# ``Client("tcp://scheduler-address:8786")``. Two single-threaded workers in
# this process keep the example light.
import warnings

import dask.array as da
import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline

from sklstm import LSTMRegressor, SequenceWindower
from sklstm.beijing import StudySettings, run_study, wide_table

warnings.filterwarnings("ignore", category=ConvergenceWarning)
cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
)
client = Client(cluster)
n_workers = sum(client.nthreads().values())

t = np.arange(1500, dtype=float)
table = np.column_stack([np.sin(t / 9) + 0.5 * np.sin(t / 31), np.cos(t / 24)])
target = np.roll(table[:, 0], -1)  # the next value of the first column
table, target = table[:-1], target[:-1]

# %%
# A search on the cluster
# -----------------------
# joblib sends each of the search's fits to a worker; only the context
# changes, not the search.
search = GridSearchCV(
    make_pipeline(
        SequenceWindower(window=12), LSTMRegressor(max_iter=5, random_state=0)
    ),
    {"lstmregressor__hidden_layer_sizes": [(8,), (16,)]},
    cv=TimeSeriesSplit(n_splits=2),
    n_jobs=-1,
)
with joblib.parallel_config(backend="dask"):
    search.fit(table, target)
print(search.best_params_)

# %%
# The study's seeds on the cluster
# --------------------------------
# :func:`~sklstm.beijing.run_study` fits its LSTMs (one per seed, input set
# and horizon) through joblib, so the same context sends them to the
# workers. ``n_jobs`` is how many run at once: the cluster's worker
# threads, not this machine's cores. Here: the quick slice of the data, one
# input set, one horizon, two seeds; the data set is read from
# ``SKLSTM_DATA_HOME`` (or downloaded into ``~/sklstm_data``).
settings = StudySettings.quick(
    inputs=("univariate",),
    horizons=(1,),
    seeds=(0, 1),
    intervals=None,
    n_jobs=n_workers,
    verbose=False,
)
with joblib.parallel_config(backend="dask"):
    study = run_study(settings, log=lambda line: None)
print(wide_table(study.results).round(2).to_string(index=False))

# %%
# Out-of-core training
# --------------------
# dask-ml's ``Incremental`` streams the blocks of a 2-D Dask array, row
# blocks of the whole width: give it the windows flattened, one row per
# window (``SequenceWindower(flatten=True)``), and tell the LSTM how many
# steps a row holds (``n_timesteps``). Each call of ``partial_fit`` is one
# pass over the blocks, one ``partial_fit`` of the LSTM per block, on a
# worker; only one block at a time needs to be in that worker's memory.
window = 12
rows = SequenceWindower(window=window, flatten=True).fit_transform(table)
X, y = rows[window - 1 :], target[window - 1 :]
block_rows = 300
X_blocks = da.from_array(X, chunks=(block_rows, X.shape[1]))
y_blocks = da.from_array(y, chunks=(block_rows,))
print(f"{X_blocks.numblocks[0]} blocks of windows, shape {X_blocks.shape}")


def make_lstm():
    return LSTMRegressor(
        hidden_layer_sizes=(16,),
        n_timesteps=window,
        # Each partial_fit call on a block would be an epoch of the default
        # cosine schedule: a stream takes a constant step.
        learning_rate="constant",
        learning_rate_init=0.01,
        random_state=0,
    )


n_epochs = 8
streamed = Incremental(make_lstm(), shuffle_blocks=False)
for _ in range(n_epochs):
    streamed.partial_fit(X_blocks, y_blocks)

# %%
# The same blocks in memory, one ``partial_fit`` per block, give the same
# loss curve, to the bit: the cluster changes where the work runs, not the
# model.
in_memory = make_lstm()
for _ in range(n_epochs):
    for start in range(0, len(X), block_rows):
        in_memory.partial_fit(
            X[start : start + block_rows], y[start : start + block_rows]
        )
print("same loss curve:", streamed.loss_curve_ == in_memory.loss_curve_)

fig, ax = plt.subplots(figsize=(7, 3.5))
n_blocks = X_blocks.numblocks[0]
passes = np.arange(1, len(streamed.loss_curve_) + 1) / n_blocks
ax.plot(passes, streamed.loss_curve_, label="Incremental on the cluster")
ax.plot(passes, in_memory.loss_curve_, "--", label="partial_fit in memory")
ax.set(xlabel="epoch", ylabel="training loss of each block", yscale="log")
ax.legend()
fig.tight_layout()

# %%
# Predictions on a Dask array are made block by block too. Score them with
# scikit-learn: dask-ml's own ``Incremental.score`` fails on Dask arrays
# with recent Dask (dask-ml issue 1012).
y_pred = streamed.predict(X_blocks).compute()
print("R² on the training windows:", round(r2_score(y, y_pred), 3))
client.close()
cluster.close()
