"""Pipeline: from a source to a saved spectrum -- sampling, the render loop, ranges and
films on every core or a cluster, batches, stopping safely."""
