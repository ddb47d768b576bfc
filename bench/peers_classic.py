"""scikit-learn's counterparts of Mass's classic models, one model on one dataset per process, for a
side-by-side run with bench/classic.ts (which starts this script once per pair and reads its JSON).

    /usr/bin/python3 bench/peers_classic.py DATA_DIR BIN_DIR MODEL DATASET [REPS]

The features come from BIN_DIR/<dataset>.f64 (float64, column-major, written by bench/classic.ts
from the same CSV) so that no CSV parsing runs in this process: peak_mb, the growth of the peak
resident set size during the first fit, then measures the fit alone. Fit time is the median of
REPS fits or more (up to 50 while they add up to under 1 s; one when the first takes over 10 s),
preprocessing included; metrics are on the fixed test split of DATA_DIR/splits.

Counterparts (scikit-learn defaults unless said):
  gaussian_nb      StandardScaler + GaussianNB()
  multinomial_nb   MultinomialNB(alpha=1) on the raw features
  linear_svm       StandardScaler + LinearSVC() (squared hinge, C=1); ROC AUC from decision_function
  sparse_logistic  StandardScaler + LogisticRegression(penalty='l1', C=1, solver='saga', max_iter=1000)
  elastic_net      StandardScaler + ElasticNet() (alpha=1, l1_ratio=0.5)
  lasso            StandardScaler + Lasso(alpha=1)
  kmeans           KMeans(n_clusters=8, n_init=1, random_state=0) on every row (iris: 3 clusters)
  kmeans_minibatch MiniBatchKMeans(n_clusters=8, n_init=1, batch_size=1024, random_state=0)
"""
import json
import os
import resource
import statistics
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

warnings.simplefilter("ignore", ConvergenceWarning)
warnings.simplefilter("ignore", FutureWarning)


def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def make(model, k):
    return {
        "gaussian_nb": lambda: make_pipeline(StandardScaler(), GaussianNB()),
        "multinomial_nb": lambda: MultinomialNB(alpha=1.0),
        "linear_svm": lambda: make_pipeline(StandardScaler(), LinearSVC()),
        "sparse_logistic": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(penalty="l1", C=1.0, solver="saga", max_iter=1000)),
        "elastic_net": lambda: make_pipeline(StandardScaler(), ElasticNet()),
        "lasso": lambda: make_pipeline(StandardScaler(), Lasso(alpha=1.0)),
        "kmeans": lambda: KMeans(n_clusters=k, n_init=1, random_state=0),
        "kmeans_minibatch": lambda: MiniBatchKMeans(n_clusters=k, n_init=1, batch_size=1024, random_state=0),
    }[model]


def ovr_auc(y, scores, classes):
    """Macro one-vs-rest ROC AUC of per-class scores (columns need not sum to 1)."""
    if scores.ndim == 1:
        return float(roc_auc_score(y == classes[1], scores))
    return float(np.mean([roc_auc_score(y == c, scores[:, i]) for i, c in enumerate(classes)]))


def main():
    data, bins, model, name = sys.argv[1:5]
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    meta = json.load(open(os.path.join(bins, name + ".json")))
    n, f = meta["rows"], meta["cols"]
    X = np.ascontiguousarray(np.fromfile(os.path.join(bins, name + ".f64"), dtype=np.float64).reshape(f, n).T)
    y = np.fromfile(os.path.join(bins, name + ".y.f64"), dtype=np.float64)
    split = json.load(open(os.path.join(data, "splits", name + ".split.json")))
    clustering = model.startswith("kmeans")
    tr = np.arange(n) if clustering else np.array(split["train"])
    te = np.array(split["test"])
    task = meta["task"]
    if task != "regression":
        y = y.astype(np.int64)
    Xtr, ytr, Xte, yte = X[tr], y[tr], X[te], y[te]
    factory = make(model, 3 if name == "iris" else 8)

    base = peak_bytes()
    times = []
    m = None
    rep = 0
    # At least REPS fits, more (up to 50) while they add up to under a second: a fast fit is then
    # timed warm, as a running server would see it (Mass's side does the same).
    while rep < reps or (sum(times) < 1.0 and rep < 50):
        m = factory()
        t = time.perf_counter()
        if clustering:
            m.fit(Xtr)
        else:
            m.fit(Xtr, ytr)
        times.append(time.perf_counter() - t)
        if rep == 0:
            peak = peak_bytes() - base
            if times[0] > 10:  # keep the run bounded: a slow fit is timed once (Mass does the same)
                break
        rep += 1
    out = {"fit_s": statistics.median(times), "peak_mb": peak / 2**20, "sklearn": sklearn.__version__}
    if clustering:
        out["inertia"] = float(m.inertia_)
        out["iterations"] = int(m.n_iter_)
    elif task == "regression":
        pred = m.predict(Xte)
        out["rmse"] = float(np.sqrt(mean_squared_error(yte, pred)))
        out["r2"] = float(r2_score(yte, pred))
    else:
        out["accuracy"] = float(accuracy_score(yte, m.predict(Xte)))
        classes = m.classes_
        if hasattr(m, "predict_proba"):
            p = m.predict_proba(Xte)
            out["roc_auc"] = float(roc_auc_score(yte, p[:, 1]) if len(classes) == 2
                                   else roc_auc_score(yte, p, multi_class="ovr", average="macro"))
        else:
            out["roc_auc"] = ovr_auc(yte, m.decision_function(Xte), classes)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
