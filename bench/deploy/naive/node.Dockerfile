# bench/deploy: the naive single-stage Dockerfile of the node job (what a user would write by
# hand), built with a plain `docker build` and compared with Pitlane's generated image.
# Context (made by run.ts): the job directory and Pitlane's wrapper in wrapper/ (copied from
# wrappers/node/, so the image serves the same HTTP contract).
# Naive on purpose, as seed 001's "before" Dockerfile: the full `node:24` image, not the slim one
# (seed 001 starts from full images with no clean-up and switches to a slim one only as a later
# lesson); the whole context is copied before `npm install`, so every code change re-runs it; dev
# dependencies (typescript) and the npm cache stay in the image; one stage; runs as root.
# Air-gapped, scripts/setup/full-base-images.sh makes node:24 locally.
# The job's tsconfig.json says noEmit (type checking only), hence `--noEmit false`.
FROM node:24
WORKDIR /app
COPY . /app
RUN npm install
RUN npx tsc --noEmit false
CMD node /app/wrapper/server.mjs /app/adder.js
