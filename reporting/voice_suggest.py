"""Suggested themes: the texts no configured theme matched, clustered with TF-IDF + k-means,
so a recurring topic nobody wrote a rule for shows up (named by its top terms)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from escalation.voice_config import Suggest


@dataclass(frozen=True)
class Suggestion:
    terms: list[str]
    size: int
    example: str


def suggest_themes(texts: list[str], config: Suggest) -> list[Suggestion]:
    """The largest clusters of `texts` (at least `min_size` each), biggest first."""
    texts = [t for t in texts if t and t.strip()][: config.max_texts]
    k = min(config.clusters, len(texts) // config.min_size, len(set(texts)))
    if k < 1:
        return []
    from sklearn.cluster import KMeans  # about 2 s to import: only when asked
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # every word a stop word, or none occurs twice
        return []
    with warnings.catch_warnings():  # fewer distinct texts than clusters: fewer clusters found
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(matrix)
    names = vectorizer.get_feature_names_out()
    out = []
    for c in range(k):
        members = [i for i, label in enumerate(model.labels_) if label == c]
        if len(members) < config.min_size:
            continue
        top = model.cluster_centers_[c].argsort()[::-1][:4]
        out.append(Suggestion([str(names[i]) for i in top], len(members), texts[members[0]]))
    return sorted(out, key=lambda s: -s.size)
