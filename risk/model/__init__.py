"""The economic model (docs/model.md): one module per stage, one assembly, one engine.

The stages (:mod:`~risk.model.capex`, :mod:`~risk.model.adoption`, :mod:`~risk.model.pricing`,
:mod:`~risk.model.compute`, :mod:`~risk.model.nvidia`, :mod:`~risk.model.aws`) are small pure
functions of floats or arrays. :mod:`risk.model.assembly` chains them into the base year and
one projected year, over named records; :mod:`risk.model.engine` runs that assembly over
many draws.
"""
