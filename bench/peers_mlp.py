"""scikit-learn's multilayer perceptron on one shared dataset and its split, for a side-by-side run
with Mass (bench/mlp.ts): StandardScaler + MLPClassifier / MLPRegressor with default parameters,
random_state = each seed given, max_iter capped when asked. Prints one JSON object.

    /usr/bin/python3 bench/peers_mlp.py DATA_DIR NAME MAX_ITER SEED [SEED ...]

Fit time is the pipeline's .fit (scaling included), wall clock and process CPU time (all threads). Peak memory is the process's peak resident
set size during the fits: the high-water mark is reset after loading the data (Linux
/proc/self/clear_refs, "5") and read from /proc/self/status afterwards.
"""
import json
import os
import re
import sys
import time
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def status_kib(field):
    with open("/proc/self/status") as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1))


def main(data, name, max_iter, seeds):
    task = json.load(open(os.path.join(data, "manifest.json")))[name]["task"]
    df = pd.read_csv(os.path.join(data, name + ".csv"))
    sp = json.load(open(os.path.join(data, "splits", name + ".split.json")))
    X, y = df.drop(columns=["target"]).to_numpy(), df["target"].to_numpy()
    del df
    tr, te = np.array(sp["train"]), np.array(sp["test"])
    Xtr, ytr, Xte, yte = X[tr], y[tr], X[te], y[te]
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    rss_before = status_kib("VmRSS")
    runs = []
    for seed in seeds:
        if task == "regression":
            est = MLPRegressor(random_state=seed, max_iter=max_iter)
        else:
            est = MLPClassifier(random_state=seed, max_iter=max_iter)
        m = make_pipeline(StandardScaler(), est)
        with warnings.catch_warnings():
            # Capped runs end unconverged by design; the epoch count says so.
            warnings.simplefilter("ignore", ConvergenceWarning)
            t = time.perf_counter()
            c = time.process_time()
            m.fit(Xtr, ytr)
            cpu_s = time.process_time() - c
            fit_s = time.perf_counter() - t
        r = {"seed": seed, "fit_s": fit_s, "cpu_s": cpu_s, "epochs": int(est.n_iter_)}
        if task == "regression":
            pred = m.predict(Xte)
            r["rmse"] = float(np.sqrt(mean_squared_error(yte, pred)))
            r["r2"] = float(r2_score(yte, pred))
        else:
            proba = m.predict_proba(Xte)
            r["accuracy"] = float(accuracy_score(yte, m.predict(Xte)))
            r["roc_auc"] = float(
                roc_auc_score(yte, proba[:, 1])
                if task == "binary"
                else roc_auc_score(yte, proba, multi_class="ovr", average="macro")
            )
        runs.append(r)
    out = {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "runs": runs,
        "rss_before_kib": rss_before,
        "peak_rss_kib": status_kib("VmHWM"),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(s) for s in sys.argv[4:]])
