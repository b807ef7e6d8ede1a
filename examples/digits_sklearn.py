"""Handwritten digits with MLPClassifier: the scikit-learn way, trained by micrograd.

Same parameters, attributes and methods as sklearn.neural_network.MLPClassifier; scikit-learn
itself is optional. Run: python examples/digits_sklearn.py
"""
import time

from micrograd.data import load_digits, train_test_split
from micrograd.sklearn import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)

clf = MLPClassifier(hidden_layer_sizes=(100, 50), activation="relu", max_iter=300,
                    random_state=42)
start = time.perf_counter()
clf.fit(X_train, y_train)
seconds = time.perf_counter() - start

print(clf)
print(f"fit: {clf.n_iter_} epochs in {seconds:.2f} s, final loss {clf.loss_:.4f}")
print(f"layers: {[w.shape for w in clf.coefs_]}, classes {clf.classes_.tolist()}")
print(f"test accuracy {clf.score(X_test, y_test):.4f}")
print("first test image: predicted", clf.predict(X_test[:1])[0], "true", y_test[0],
      "p =", clf.predict_proba(X_test[:1]).max().round(3))
