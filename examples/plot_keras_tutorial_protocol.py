"""
The Keras tutorial's Beijing PM2.5 protocol, and what persistence scores on it
==============================================================================

A widely copied Keras tutorial ("Multivariate Time Series Forecasting with
LSTMs in Keras") forecasts Beijing PM2.5 one hour ahead from the eight
features of the hour before, and reports a test RMSE of 26.5 µg/m³. This
example reproduces its protocol with :class:`sklstm.LSTMRegressor`:

- PM2.5 gaps filled with 0, the first 24 hours (no PM2.5) dropped;
- wind direction label-encoded, all eight features min-max scaled, the
  scaler fitted on the whole series (as the tutorial does);
- inputs: the eight features at hour ``t``; target: PM2.5 at ``t + 1``;
- the first year (365 * 24 rows) to train, the rest (about four years) to
  test;
- 50 LSTM units, 50 epochs, batch 72, mean absolute error loss, Adam, no
  shuffling, the target min-max scaled too.

It then scores *persistence* (the value at ``t``) on the same test rows:
an LSTM that does not beat it has learnt nothing the last observation did
not already say. Protocol P of ``sklstm-beijing`` (a train/validation/test
split in time, scalers fitted on train only, 24-hour windows) is the honest
version of this comparison.

Set the environment variable ``SKLSTM_KERAS_EPOCHS`` to run fewer epochs
(the default, 50, takes well under a minute: each sequence is one step).
"""

# %%
# Load the data the tutorial's way
# --------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import root_mean_squared_error
from sklearn.preprocessing import MinMaxScaler

from sklstm import LSTMRegressor
from sklstm.datasets import load_beijing_pm25

EPOCHS = int(os.environ.get("SKLSTM_KERAS_EPOCHS", "50"))
TUTORIAL_RMSE = 26.496

data = load_beijing_pm25()
data["pollution"] = data["pollution"].fillna(0)
data = data.iloc[24:]
data["wnd_dir"] = data["wnd_dir"].cat.codes  # the tutorial's LabelEncoder
values = data.to_numpy(dtype=np.float32)
scaled = MinMaxScaler().fit_transform(values)  # fitted on all rows, as there

# %%
# Features at ``t``, PM2.5 at ``t + 1``; first year to train
# ------------------------------------------------------------
# The LSTM reads sequences of one step: ``X`` is ``(n, 1, 8)``.
X = scaled[:-1, None, :]
y = values[1:, 0]
n_train = 365 * 24
X_train, X_test = X[:n_train], X[n_train:]
y_train, y_test = y[:n_train], y[n_train:]

lstm = TransformedTargetRegressor(
    regressor=LSTMRegressor(
        hidden_layer_sizes=50,
        loss="absolute_error",
        batch_size=72,
        learning_rate="constant",  # Keras's Adam takes a constant step
        max_iter=EPOCHS,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=EPOCHS,  # run every epoch, as Keras does
        scale_target=False,  # the target is min-max scaled, as there
        random_state=0,
    ),
    transformer=MinMaxScaler(),
)
lstm.fit(X_train, y_train)
y_lstm = lstm.predict(X_test)

# %%
# Compare with persistence on the same test rows
# ----------------------------------------------
y_persistence = values[n_train:-1, 0]  # PM2.5 at t, for t + 1
rmse_lstm = root_mean_squared_error(y_test, y_lstm)
rmse_persistence = root_mean_squared_error(y_test, y_persistence)
print(f"Test rows: {len(y_test)}, {EPOCHS} epochs")
print(f"{'Keras tutorial (reported)':28s} RMSE {TUTORIAL_RMSE:6.2f} µg/m³")
print(f"{'sklstm LSTMRegressor':28s} RMSE {rmse_lstm:6.2f} µg/m³")
print(f"{'persistence':28s} RMSE {rmse_persistence:6.2f} µg/m³")

# %%
# Two weeks of the test period
# ----------------------------
hours = data.index[n_train + 1 :]
week = slice(24 * 40, 24 * 54)
fig, ax = plt.subplots(figsize=(10, 3.5))
ax.plot(hours[week], y_test[week], color="black", label="observed")
ax.plot(hours[week], y_lstm[week], label=f"LSTM (RMSE {rmse_lstm:.1f})")
ax.plot(hours[week], y_persistence[week], color="0.55", linestyle=":",
        label=f"persistence (RMSE {rmse_persistence:.1f})")  # fmt: skip
ax.set_ylabel("PM2.5 (µg/m³)")
ax.set_title("One hour ahead, Keras tutorial protocol")
ax.legend()
fig.autofmt_xdate()
fig.tight_layout()
plt.show()
