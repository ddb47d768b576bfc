"""scikit-learn 1.2 / XGBoost 1.7 tree models on one shared dataset and split, configured as
../shared/peers/bench_train.py configures them, for a side-by-side run with Mass (bench/trees.ts).
One model per process, so that the peak memory is the model's own. Prints one JSON object.

    /usr/bin/python3 bench/peers_trees.py DATA_DIR NAME MODEL REPS

MODEL: hgb (HistGradientBoosting, defaults), hgb100 (the same without early stopping: 100
iterations), xgb (XGBoost, 100 rounds, tree_method='hist', n_jobs=2), rf (RandomForest, 100
trees, n_jobs=-1). All random_state=0. Fit time: median of REPS .fit calls; the metrics are those
of the last fit on the test rows. Memory: VmRSS before the first fit and VmHWM (peak) after the
last, from /proc/self/status, the peak counter reset once the data is loaded.
"""
import gc
import json
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score


def status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def make(model, regression):
    if model in ("hgb", "hgb100"):
        cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
        extra = {"early_stopping": False} if model == "hgb100" else {}
        return lambda: cls(random_state=0, **extra)
    if model == "xgb":
        from xgboost import XGBClassifier, XGBRegressor
        cls = XGBRegressor if regression else XGBClassifier
        return lambda: cls(n_estimators=100, tree_method="hist", n_jobs=2, random_state=0)
    if model == "rf":
        cls = RandomForestRegressor if regression else RandomForestClassifier
        return lambda: cls(n_estimators=100, n_jobs=-1, random_state=0)
    raise SystemExit(f"unknown model {model}")


def main():
    data, name, model, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    task = manifest[name]["task"]
    regression = task == "regression"
    df = pd.read_csv(os.path.join(data, name + ".csv"))
    sp = json.load(open(os.path.join(data, "splits", name + ".split.json")))
    X, y = df.drop(columns=["target"]).to_numpy(), df["target"].to_numpy()
    tr, te = np.array(sp["train"]), np.array(sp["test"])
    Xtr, ytr, Xte, yte = X[tr], y[tr], X[te], y[te]
    factory = make(model, regression)
    # Count the peak from here: collect, then reset VmHWM (Linux: "5" into /proc/self/clear_refs).
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    rss_before = status_kb("VmRSS")
    times, m = [], None
    for _ in range(reps):
        m = factory()
        t = time.perf_counter()
        m.fit(Xtr, ytr)
        times.append(time.perf_counter() - t)
    out = {"fit_s": statistics.median(times), "fit_s_all": times, "rss_before_kb": rss_before,
           "peak_kb": status_kb("VmHWM"), "sklearn": sklearn.__version__}
    if model == "xgb":
        import xgboost
        out["xgboost"] = xgboost.__version__
    if hasattr(m, "n_iter_"):
        out["iterations"] = int(m.n_iter_)
    pred = m.predict(Xte)
    if regression:
        out["rmse"] = float(np.sqrt(mean_squared_error(yte, pred)))
        out["r2"] = float(r2_score(yte, pred))
    else:
        proba = m.predict_proba(Xte)
        out["accuracy"] = float(accuracy_score(yte, pred))
        out["roc_auc"] = float(roc_auc_score(yte, proba[:, 1]) if task == "binary"
                               else roc_auc_score(yte, proba, multi_class="ovr", average="macro"))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
