# bench/deploy: the naive single-stage Dockerfile of the python3 job (what a user would write by
# hand), built with a plain `docker build` and compared with Pitlane's generated image.
# Context (made by run.ts): the job directory, Pitlane's wrapper in wrapper/ (copied from
# wrappers/python3/, so the image serves the same HTTP contract), and the benchmark's tiny wheel in
# wheels/ (there is no PyPI here, hence --no-index --find-links; otherwise plain `pip install`).
# Naive on purpose, as seed 001's "before" Dockerfile: the full `python:3.11` image, not the slim one
# (seed 001's task 1 starts from a full distribution with no clean-up; its task 3 builds on the full
# `python:3.8.12` image, tagged "fat", and only then says "Now switch to python:3.8.12-slim"); the
# whole context is copied before the install, so every code change re-runs it; one stage; runs as
# root; pip's defaults. Air-gapped, scripts/setup/full-base-images.sh makes python:3.11 locally.
FROM python:3.11
COPY . /app
WORKDIR /app
RUN pip install --no-index --find-links /app/wheels -r requirements.txt
ENV PYTHONPATH=/app/wrapper
CMD python -m pitlane_wrapper adder.py
