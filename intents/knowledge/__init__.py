"""Help-centre articles: loading, passages, the retrieval index and the calibrated answer."""
