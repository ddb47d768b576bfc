"""The defaults a data scientist would try first, on the shared datasets and their fixed splits, for
Mass's automatic-mode bench: scikit-learn HistGradientBoosting, RandomForest (100 trees),
LogisticRegression / Ridge after StandardScaler, and XGBoost (100 rounds, hist), all random_state=0,
configured as ../shared/peers/bench_train.py. Prints one JSON object: per dataset, per model, the
fit time and the test metrics (accuracy and ROC-AUC — positive-class probability for two classes,
one-vs-rest macro otherwise — or RMSE and R²).

    /usr/bin/python3 bench/peers_automl.py DATA_DIR NAME [NAME ...]
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import sklearn
import xgboost
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor


def models(task):
    if task == "regression":
        return {
            "Ridge": lambda: make_pipeline(StandardScaler(), Ridge()),
            "RandomForest": lambda: RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=-1),
            "HistGradientBoosting": lambda: HistGradientBoostingRegressor(random_state=0),
            "XGBoost": lambda: XGBRegressor(n_estimators=100, tree_method="hist", random_state=0, n_jobs=2),
        }
    return {
        "LogisticRegression": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "RandomForest": lambda: RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=-1),
        "HistGradientBoosting": lambda: HistGradientBoostingClassifier(random_state=0),
        "XGBoost": lambda: XGBClassifier(n_estimators=100, tree_method="hist", random_state=0, n_jobs=2),
    }


def main():
    data, names = sys.argv[1], sys.argv[2:]
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    out = {"_env": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__}}
    for name in names:
        task = manifest[name]["task"]
        df = pd.read_csv(os.path.join(data, name + ".csv"))
        sp = json.load(open(os.path.join(data, "splits", name + ".split.json")))
        X, y = df.drop(columns=["target"]).to_numpy(), df["target"].to_numpy()
        tr, te = np.array(sp["train"]), np.array(sp["test"])
        if task != "regression":
            # XGBoost wants classes 0..C-1.
            labels = np.unique(y[tr])
            y = np.searchsorted(labels, y)
        result = {}
        for model_name, make in models(task).items():
            m = make()
            t = time.perf_counter()
            m.fit(X[tr], y[tr])
            r = {"fit_s": time.perf_counter() - t}
            if task == "regression":
                pred = m.predict(X[te])
                r["rmse"] = float(np.sqrt(mean_squared_error(y[te], pred)))
                r["r2"] = float(r2_score(y[te], pred))
            else:
                proba = m.predict_proba(X[te])
                r["accuracy"] = float(accuracy_score(y[te], proba.argmax(axis=1)))
                r["roc_auc"] = float(roc_auc_score(y[te], proba[:, 1]) if proba.shape[1] == 2
                                     else roc_auc_score(y[te], proba, multi_class="ovr", average="macro"))
            result[model_name] = r
            print(f"{name} {model_name}: {r}", file=sys.stderr)
        out[name] = result
    print(json.dumps(out))


main()
