import { describe, expect, it } from 'vitest';
import { lintDockerfile } from '../../../src/dockerfile/index.js';
import { codes, optionsFor } from './helpers.js';

const F = 'FROM debian:12.6\n';

const CASES: Array<[string, string, string]> = [
  ['PL1001', `${F}ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive`, `${F}ARG DEBIAN_FRONTEND=noninteractive\nRUN DEBIAN_FRONTEND=noninteractive apt-get update`],
  // (a) update alone, (b) clean-up alone, (c) split installs.
  ['PL1002', `${F}RUN apk update\nRUN apk add --no-cache curl=8.0`, `${F}RUN apt-get update && apt-get install -y --no-install-recommends curl=8 && rm -rf /var/lib/apt/lists/*\nRUN make`],
  ['PL1002', `${F}RUN make && make install\nRUN rm -rf /tmp/build && apt-get clean`, `${F}RUN make\nCOPY x /x\nRUN rm -rf /tmp/build`],
  ['PL1002', `${F}RUN pip --version && apt-get install -y --no-install-recommends a=1\nRUN apt-get install -y --no-install-recommends b=2`, `${F}RUN apt-get install -y --no-install-recommends a=1\nRUN pip install --no-cache-dir b==2`],
  ['PL1003', 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci', 'FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build'],
  ['PL1003', 'FROM golang:1.22\nWORKDIR /src\nCOPY ./ ./\nRUN go mod download', 'FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN go build ./...'],
  ['PL1004', 'FROM debian:12.6 AS build\nUSER 1000\nFROM debian:12.6\nCMD ["x"]', 'FROM debian:12.6 AS base\nUSER 1000\nFROM base\nCMD ["x"]'],
  ['PL1005', `${F}ARG NPM_AUTH=x\nENV DB_URL=postgres://app:s3cr3t@db:5432/app`.replace('NPM_AUTH', 'DEPLOY_KEY'), `${F}ENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D PASSWORD_MIN_LENGTH_HINT_FILE=/x KEY=value`],
  ['PL1005', `${F}ENV CI_HELPER=ghp_abcdefghijklmnopqrstuvwxyz0123456789`, `${F}ENV URL=https://example.com/path@v1`],
  ['PL1006', `${F}RUN apk upgrade --no-cache`, `${F}RUN apk add --no-cache curl=8.0`],
  ['PL1006', `${F}RUN dnf -y update && dnf clean all`, `${F}RUN dnf -y install x-1.0 && dnf clean all`],
  ['PL1007', `${F}ADD <<EOF /etc/motd\nhello\nEOF`, `${F}COPY <<EOF /etc/motd\nhello\nEOF\nADD rootfs.tar.xz /`],
  ['PL1007', `${F}ADD dump.sql.bz2 /docker-entrypoint-initdb.d/`, `${F}ADD https://example.com/a.tar.gz /tmp/`],
  ['PL1008', `${F}EXPOSE 80 20-25/tcp`, `${F}EXPOSE 80 2222 220`],
  ['PL1009', `${F}ADD . /srv`, `${F}COPY --from=debian:12.6 . /srv\nCOPY ./src /srv`],
  ['PL1010', `${F}COPY app /srv/\${APP}`, `${F}ARG APP=api\nCOPY app /srv/\${APP}\nENV PATH=/x:$PATH HOME2=\${UNSET:-/root}\nRUN echo $NOT_CHECKED_IN_RUN\nLABEL x='$literal'`],
  ['PL1010', 'ARG BASE=debian\nFROM $BASE:$TAG', 'ARG BASE=debian\nARG TAG=12.6\nFROM $BASE:$TAG\nARG TAG\nLABEL tag=$TAG'],
  ['PL1011', 'ARG IMG=node\nFROM ${IMG}', 'ARG IMG=node:20.15\nFROM ${IMG} AS a\nFROM a'],
  ['PL1011', `${F}RUN --mount=type=bind,from=ghcr.io/x/tools,target=/t /t/run`, `${F}RUN --mount=type=bind,from=ghcr.io/x/tools:1.2,target=/t /t/run\nCOPY --from=busybox /bin/sh /sh`],
  ['PL1012', 'FROM alpine:3.20\nRUN apk add --no-cache build-base=0.5-r3', 'FROM alpine:3.20 AS build\nRUN apk add --no-cache build-base=0.5-r3\nFROM alpine:3.20\nRUN apk add --no-cache --virtual .b gcc=13 && make && apk del .b\nRUN apt-get install -y --no-install-recommends libpq-dev=15 && apt-get purge -y libpq-dev'],
];

describe('PL rules: failing and passing cases', () => {
  CASES.forEach(([code, bad, good], i) => {
    it(`${code} #${i}`, () => {
      const options = optionsFor(code);
      expect(codes(bad, options)).toContain(code);
      expect(codes(good, options)).not.toContain(code);
    });
  });

  it('PL1009 is only checked when the context is known to have no .dockerignore', () => {
    const t = `${F}COPY . /app`;
    expect(codes(t)).not.toContain('PL1009');
    expect(codes(t, { hasDockerignore: true })).not.toContain('PL1009');
    expect(codes(t, { hasDockerignore: false })).toContain('PL1009');
  });

  it('PL rules do not duplicate the DL rule that covers the same problem', () => {
    // DL3006/DL3007 cover literal FROM tags; PL1011 only resolved ones.
    expect(codes('FROM node:latest')).toEqual(expect.arrayContaining(['DL3007']));
    expect(codes('FROM node:latest')).not.toContain('PL1011');
    // DL3064 covers hadolint's names; PL1005 does not report them again.
    expect(codes(`${F}ENV GITHUB_TOKEN=x`)).not.toContain('PL1005');
    // DL3020 covers plain files; PL1007 only what DL3020 lets through.
    expect(codes(`${F}ADD app.py /app/`)).toContain('DL3020');
    expect(codes(`${F}ADD app.py /app/`)).not.toContain('PL1007');
  });

  it('messages name the offending thing', () => {
    const f = lintDockerfile('ARG TAG=latest\nFROM node:${TAG}').findings.find((x) => x.code === 'PL1011');
    expect(f?.message).toContain('node:latest');
    const v = lintDockerfile(`${F}WORKDIR /srv/$APP_NAME`).findings.find((x) => x.code === 'PL1010');
    expect(v?.message).toContain('$APP_NAME');
    const b = lintDockerfile('FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc=12 python3-dev=3.11 && rm -rf /var/lib/apt/lists/*').findings.find((x) => x.code === 'PL1012');
    expect(b?.message).toContain('`gcc`');
    expect(b?.message).toContain('`python3-dev`');
  });
});
