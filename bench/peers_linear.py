"""scikit-learn's linear models on the shared datasets and splits, configured exactly as
../shared/peers/bench_train.py configures them (StandardScaler + LogisticRegression(max_iter=1000),
StandardScaler + Ridge()), for a side-by-side run with Mass. Prints one JSON object.

    /usr/bin/python3 bench/peers_linear.py DATA_DIR NAME [NAME ...]
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data, names = sys.argv[1], sys.argv[2:]
manifest = json.load(open(os.path.join(data, "manifest.json")))
out = {"_env": {"sklearn": sklearn.__version__, "numpy": np.__version__}}
for name in names:
    task = manifest[name]["task"]
    df = pd.read_csv(os.path.join(data, name + ".csv"))
    sp = json.load(open(os.path.join(data, "splits", name + ".split.json")))
    X, y = df.drop(columns=["target"]).to_numpy(), df["target"].to_numpy()
    tr, te = np.array(sp["train"]), np.array(sp["test"])
    make = (lambda: make_pipeline(StandardScaler(), Ridge())) if task == "regression" else \
        (lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)))
    times = []
    for _ in range(3):
        m = make()
        t = time.perf_counter()
        m.fit(X[tr], y[tr])
        times.append(time.perf_counter() - t)
    r = {"fit_s": statistics.median(times)}
    pred = m.predict(X[te])
    if task == "regression":
        r["rmse"] = float(np.sqrt(mean_squared_error(y[te], pred)))
        r["r2"] = float(r2_score(y[te], pred))
    else:
        proba = m.predict_proba(X[te])
        r["accuracy"] = float(accuracy_score(y[te], pred))
        r["roc_auc"] = float(roc_auc_score(y[te], proba[:, 1]) if task == "binary"
                             else roc_auc_score(y[te], proba, multi_class="ovr", average="macro"))
    out[name] = r
print(json.dumps(out))
