"""The demo county 河曲县 (140930): real outline, township and village names/codes; the rest synthetic."""
