has_lifecycle = 1
has_breakdown = 1
has_density = 1
has_density_template = 1
title_date = "2026-11-24T05:34:01Z"
