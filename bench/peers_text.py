"""scikit-learn's text pipelines on the generated reviews written by bench/text.ts, configured as
Mass's defaults: CountVectorizer(min_df=2, max_features=5000) + MultinomialNB(alpha=1), and
TfidfVectorizer(min_df=2, max_features=5000) + LogisticRegression(C=1, max_iter=300); both with
scikit-learn's default lower-casing and token pattern. Prints one JSON object.

    /usr/bin/python3 bench/peers_text.py DATA.json
"""
import json
import statistics
import sys
import time

import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

d = json.load(open(sys.argv[1]))
out = {"_env": {"sklearn": sklearn.__version__}}
for name, ds in d.items():
    text, y = ds["text"], ds["label"]
    tr, te = ds["train"], ds["test"]
    Xtr, ytr = [text[i] for i in tr], [y[i] for i in tr]
    Xte, yte = [text[i] for i in te], [y[i] for i in te]
    res = {}
    for algo, make in {
        "multinomial_nb": lambda: make_pipeline(CountVectorizer(min_df=2, max_features=5000), MultinomialNB(alpha=1.0)),
        "logistic_regression": lambda: make_pipeline(
            TfidfVectorizer(min_df=2, max_features=5000), LogisticRegression(C=1.0, max_iter=300)
        ),
    }.items():
        times = []
        for _ in range(3):
            m = make()
            t = time.perf_counter()
            m.fit(Xtr, ytr)
            times.append(time.perf_counter() - t)
        res[algo] = {
            "fit_s": statistics.median(times),
            "accuracy": accuracy_score(yte, m.predict(Xte)),
            "vocabulary": len(m.steps[0][1].vocabulary_),
        }
    out[name] = res
print(json.dumps(out))
