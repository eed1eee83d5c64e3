"""
Forecasting Beijing PM2.5 with an LSTM pipeline, against baselines
===================================================================

The ``sklstm-beijing`` command runs a full study: an LSTM pipeline and four
baselines forecast PM2.5 at the US Embassy in Beijing 1, 6 and 24 hours
ahead, trained on 2010-2012, early-stopped on 2013 and scored on 2014. This
example runs the same code on a slice of the data (train September to
December 2012, validation January 2013, test January 2014), so that it
finishes in under a minute; its numbers are not the study's.

Each fitted model is a scikit-learn pipeline from raw hourly rows::

    ColumnTransformer (one-hot wind direction, standard scaling,
                       fitted on the train period and frozen)
      → SequenceWindower(window=24)
      → LSTMRegressor(early_stopping=True)

The baselines read the same rows: persistence (the value at ``t``),
seasonal naive (the value 24 hours before the target), and Ridge and
gradient boosting on the 24 hourly lags.
"""

# %%
# Run the study on a slice
# ------------------------
# ``StudySettings.quick()`` are the settings of ``sklstm-beijing --quick``:
# the slice, and a smaller LSTM (32 units, batches of 32, at most 12
# epochs). The data set is read from ``SKLSTM_DATA_HOME`` (or downloaded into
# ``~/sklstm_data``). One line is printed per fitted model.
import matplotlib.pyplot as plt

from sklstm.beijing import StudySettings, run_study, wide_table

result = run_study(StudySettings.quick(verbose=False))

# %%
# Test RMSE and MAE (µg/m³)
# -------------------------
# One row per model and input set: univariate reads PM2.5 only,
# multivariate adds dew point, temperature, pressure, wind and precipitation.
table = wide_table(result.results)
print(table.round(2).to_string(index=False))

# %%
# Two weeks of forecasts
# ----------------------
# The forecasts are drawn at the hour they forecast: a good 6- or 24-hour
# forecast leads persistence, which lags the observations by the horizon.
start, stop = "2014-01-12", "2014-01-25 23:00"
fig, axes = plt.subplots(len(result.forecasts), 1, figsize=(10, 8), sharex=True)
for ax, (horizon, forecasts) in zip(axes, result.forecasts.items(), strict=True):
    ax.plot(result.truth[start:stop], color="black", label="observed")
    for label, forecast in forecasts.items():
        style = {"color": "0.55", "linestyle": ":"} if label == "persistence" else {}
        ax.plot(forecast[start:stop], label=label, **style)
    ax.set_title(f"{horizon} h ahead", loc="left")
    ax.set_ylabel("PM2.5 (µg/m³)")
axes[0].legend(ncol=4, fontsize=8)
fig.autofmt_xdate()
fig.tight_layout()
plt.show()
