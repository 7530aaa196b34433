"""Sample sets with ground truth, and the generator of synthetic signature photos.

``samples.generator`` renders one photo from a :class:`~samples.generator.SampleSpec`.
``samples.recipes`` turns a recipe name and a seed into a whole set.
``samples.manifest`` reads and writes set manifests, and ``samples.external``
writes manifests over image and mask pairs kept outside the repository. The
committed sets live in ``samples/sets/<name>/``.
"""

from samples.generator import GENERATOR_VERSION, Sample, SampleSpec, render_sample
from samples.manifest import Expected, SampleSet, SetItem

__all__ = ["GENERATOR_VERSION", "Expected", "Sample", "SampleSet", "SampleSpec", "SetItem", "render_sample"]
