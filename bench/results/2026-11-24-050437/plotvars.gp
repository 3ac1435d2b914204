has_lifecycle = 1
has_breakdown = 1
has_density = 1
title_date = "2026-11-24T05:04:39Z"
