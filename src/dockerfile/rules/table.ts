/**
 * The documented rule table: every rule the linter can report, with its default level, a title,
 * a bad and a good example, and whether `fixDockerfile` rewrites it.
 *
 * DL codes, levels and titles are hadolint's (README rule table of v2.15.1, cross-checked against
 * the `severity = DL*C` of each `src/Hadolint/Rule/DLxxxx.hs`; see peers.md 3.1). Retired hadolint
 * codes (DL3005, DL3017, DL3031, DL3039) are not reported under their old codes; the upgrade check
 * lives on as PL1006. PL1xxx codes are Pitlane's own rules for practices hadolint does not check.
 */
import type { RuleInfo, RuleLevel } from '../types.js';

type Row = [code: string, severity: RuleLevel, title: string, bad: string, good: string, fixable?: boolean];

const DL: Row[] = [
  ['DL1001', 'ignore', 'Please refrain from using inline ignore pragmas `# hadolint ignore=DLxxxx`.', '# hadolint ignore=DL3008\nRUN apt-get install -y curl', 'RUN apt-get install -y curl=7.88.1-10'],
  ['DL3000', 'error', 'Use absolute WORKDIR.', 'WORKDIR app', 'WORKDIR /app'],
  ['DL3001', 'info', 'For some bash commands it makes no sense running them in a Docker container like ssh, vim, shutdown, service, ps, free, top, kill, mount, ifconfig.', 'RUN service nginx start', 'CMD ["nginx", "-g", "daemon off;"]'],
  ['DL3002', 'warning', 'Last user should not be root.', 'FROM alpine:3.20\nUSER root', 'FROM alpine:3.20\nUSER 10001'],
  ['DL3003', 'warning', 'Use WORKDIR to switch to a directory.', 'RUN cd /app && make', 'WORKDIR /app\nRUN make', true],
  ['DL3004', 'error', 'Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root.', 'RUN sudo apt-get update', 'RUN apt-get update'],
  ['DL3006', 'warning', 'Always tag the version of an image explicitly.', 'FROM debian', 'FROM debian:12.6'],
  ['DL3007', 'warning', 'Using latest is prone to errors if the image will ever update. Pin the version explicitly to a release tag.', 'FROM debian:latest', 'FROM debian:12.6'],
  ['DL3008', 'warning', 'Pin versions in apt-get install.', 'RUN apt-get install -y curl', 'RUN apt-get install -y curl=7.88.1-10+deb12u5'],
  ['DL3009', 'info', 'Delete the apt-get lists after installing something.', 'RUN apt-get update && apt-get install -y curl', 'RUN apt-get update && apt-get install -y curl \\\n && rm -rf /var/lib/apt/lists/*', true],
  ['DL3010', 'info', 'Use ADD for extracting archives into an image.', 'COPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt', 'ADD app.tar.gz /opt/'],
  ['DL3011', 'error', 'Valid UNIX ports range from 0 to 65535.', 'EXPOSE 80000', 'EXPOSE 8000'],
  ['DL3012', 'error', 'Multiple `HEALTHCHECK` instructions.', 'FROM nginx:1.27\nHEALTHCHECK CMD curl -f http://localhost/\nHEALTHCHECK CMD wget -q localhost', 'FROM nginx:1.27\nHEALTHCHECK CMD curl -f http://localhost/'],
  ['DL3013', 'warning', 'Pin versions in pip.', 'RUN pip install --no-cache-dir flask', 'RUN pip install --no-cache-dir flask==3.0.3'],
  ['DL3014', 'warning', 'Use the `-y` switch.', 'RUN apt-get install curl', 'RUN apt-get install -y curl', true],
  ['DL3015', 'info', 'Avoid additional packages by specifying `--no-install-recommends`.', 'RUN apt-get install -y curl', 'RUN apt-get install -y --no-install-recommends curl', true],
  ['DL3016', 'warning', 'Pin versions in `npm`.', 'RUN npm install -g express', 'RUN npm install -g express@4.19.2'],
  ['DL3018', 'warning', 'Pin versions in `apk add`. Instead of `apk add <package>` use `apk add <package>=<version>`.', 'RUN apk add --no-cache curl', 'RUN apk add --no-cache curl=8.9.0-r0'],
  ['DL3019', 'info', 'Use the `--no-cache` switch to avoid the need to use `--update` and remove `/var/cache/apk/*` when done installing packages.', 'RUN apk add --update curl=8.9.0-r0', 'RUN apk add --no-cache curl=8.9.0-r0'],
  ['DL3020', 'error', 'Use `COPY` instead of `ADD` for files and folders.', 'ADD requirements.txt /app/', 'COPY requirements.txt /app/'],
  ['DL3021', 'error', '`COPY` with more than 2 arguments requires the last argument to end with `/`', 'COPY a.txt b.txt /app', 'COPY a.txt b.txt /app/'],
  ['DL3022', 'warning', '`COPY --from` should reference a previously defined `FROM` alias', 'FROM debian:12\nCOPY --from=build /out /out', 'FROM golang:1.22 AS build\nFROM debian:12\nCOPY --from=build /out /out'],
  ['DL3023', 'error', '`COPY --from` cannot reference its own `FROM` alias', 'FROM debian:12 AS app\nCOPY --from=app /a /b', 'FROM debian:12 AS base\nFROM debian:12 AS app\nCOPY --from=base /a /b'],
  ['DL3024', 'error', '`FROM` aliases (stage names) must be unique', 'FROM debian:12 AS build\nFROM alpine:3.20 AS build', 'FROM debian:12 AS build\nFROM alpine:3.20 AS runtime'],
  ['DL3025', 'warning', 'Use arguments JSON notation for CMD and ENTRYPOINT arguments', 'CMD python app.py', 'CMD ["python", "app.py"]'],
  ['DL3026', 'error', 'Use only an allowed registry in the `FROM image`', 'FROM evil.example.com/debian:12', 'FROM docker.io/library/debian:12'],
  ['DL3027', 'warning', 'Do not use `apt` as it is meant to be an end-user tool, use `apt-get` or `apt-cache` instead', 'RUN apt install -y curl', 'RUN apt-get install -y curl'],
  ['DL3028', 'warning', 'Pin versions in gem install. Instead of `gem install <gem>` use `gem install <gem>:<version>`', 'RUN gem install bundler', 'RUN gem install bundler:2.5.16'],
  ['DL3029', 'warning', 'Do not use --platform flag with FROM.', 'FROM --platform=linux/amd64 debian:12', 'FROM debian:12'],
  ['DL3030', 'warning', 'Use the `-y` switch to avoid manual input `yum install -y <package>`', 'RUN yum install httpd-2.4.57', 'RUN yum install -y httpd-2.4.57 && yum clean all'],
  ['DL3032', 'warning', '`yum clean all` missing after yum command.', 'RUN yum install -y httpd-2.4.57', 'RUN yum install -y httpd-2.4.57 && yum clean all'],
  ['DL3033', 'warning', 'Specify version with `yum install -y <package>-<version>`', 'RUN yum install -y httpd && yum clean all', 'RUN yum install -y httpd-2.4.57 && yum clean all'],
  ['DL3034', 'warning', 'Non-interactive switch missing from `zypper` command: `zypper install -y`', 'RUN zypper install curl=8.0.1 && zypper clean', 'RUN zypper install -y curl=8.0.1 && zypper clean'],
  ['DL3035', 'warning', 'Do not use `zypper dist-upgrade`.', 'RUN zypper dist-upgrade -y', 'RUN zypper install -y curl=8.0.1 && zypper clean'],
  ['DL3036', 'warning', '`zypper clean` missing after zypper use.', 'RUN zypper install -y curl=8.0.1', 'RUN zypper install -y curl=8.0.1 && zypper clean'],
  ['DL3037', 'warning', 'Specify version with `zypper install -y <package>[=]<version>`.', 'RUN zypper install -y curl && zypper clean', 'RUN zypper install -y curl=8.0.1 && zypper clean'],
  ['DL3038', 'warning', 'Use the `-y` switch to avoid manual input `dnf install -y <package>`', 'RUN dnf install httpd-2.4.57 && dnf clean all', 'RUN dnf install -y httpd-2.4.57 && dnf clean all'],
  ['DL3040', 'warning', '`dnf clean all` missing after dnf command.', 'RUN dnf install -y httpd-2.4.57', 'RUN dnf install -y httpd-2.4.57 && dnf clean all'],
  ['DL3041', 'warning', 'Specify version with `dnf install -y <package>-<version>`', 'RUN dnf install -y httpd && dnf clean all', 'RUN dnf install -y httpd-2.4.57 && dnf clean all'],
  ['DL3042', 'warning', 'Avoid cache directory with `pip install --no-cache-dir <package>`.', 'RUN pip install flask==3.0.3', 'RUN pip install --no-cache-dir flask==3.0.3', true],
  ['DL3043', 'error', '`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` instruction.', 'ONBUILD FROM debian:12', 'ONBUILD RUN make'],
  ['DL3044', 'error', 'Do not refer to an environment variable within the same `ENV` statement where it is defined.', 'ENV A=/opt B=$A/bin', 'ENV A=/opt\nENV B=$A/bin'],
  ['DL3045', 'warning', '`COPY` to a relative destination without `WORKDIR` set.', 'FROM debian:12\nCOPY app.py app/', 'FROM debian:12\nWORKDIR /srv\nCOPY app.py app/'],
  ['DL3046', 'warning', '`useradd` without flag `-l` and high UID will result in excessively large Image.', 'RUN useradd -u 123456 app', 'RUN useradd -l -u 123456 app'],
  ['DL3047', 'info', '`wget` without flag `--progress` will result in excessively bloated build logs when downloading larger files.', 'RUN wget https://example.com/big.tar', 'RUN wget --progress=dot:giga https://example.com/big.tar'],
  ['DL3048', 'style', 'Invalid Label Key', 'LABEL Maintainer=me', 'LABEL maintainer=me'],
  ['DL3049', 'info', 'Label `<label>` is missing.', 'FROM debian:12', 'FROM debian:12\nLABEL maintainer="ops@example.com"'],
  ['DL3050', 'info', 'Superfluous label(s) present.', 'LABEL random=1', 'LABEL maintainer="ops@example.com"'],
  ['DL3051', 'warning', 'Label `<label>` is empty.', 'LABEL maintainer=""', 'LABEL maintainer="ops@example.com"'],
  ['DL3052', 'warning', 'Label `<label>` is not a valid URL.', 'LABEL org.opencontainers.image.url="not a url"', 'LABEL org.opencontainers.image.url="https://example.com"'],
  ['DL3053', 'warning', 'Label `<label>` is not a valid time format - must conform to RFC3339.', 'LABEL org.opencontainers.image.created="yesterday"', 'LABEL org.opencontainers.image.created="2024-05-01T12:00:00Z"'],
  ['DL3054', 'warning', 'Label `<label>` is not a valid SPDX license identifier.', 'LABEL org.opencontainers.image.licenses="MIT-ish"', 'LABEL org.opencontainers.image.licenses="MIT"'],
  ['DL3055', 'warning', 'Label `<label>` is not a valid git hash.', 'LABEL org.opencontainers.image.revision="main"', 'LABEL org.opencontainers.image.revision="0123abc"'],
  ['DL3056', 'warning', 'Label `<label>` does not conform to semantic versioning.', 'LABEL org.opencontainers.image.version="v1"', 'LABEL org.opencontainers.image.version="1.0.0"'],
  ['DL3057', 'ignore', '`HEALTHCHECK` instruction missing.', 'FROM nginx:1.27\nCMD ["nginx", "-g", "daemon off;"]', 'FROM nginx:1.27\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1'],
  ['DL3058', 'warning', 'Label `<label>` is not a valid email format - must conform to RFC5322.', 'LABEL maintainer="ops at example"', 'LABEL maintainer="ops@example.com"'],
  ['DL3059', 'info', 'Multiple consecutive `RUN` instructions. Consider consolidation.', 'RUN apt-get update\nRUN apt-get install -y curl', 'RUN apt-get update && apt-get install -y curl', true],
  ['DL3060', 'info', '`yarn cache clean` missing after `yarn install` was run.', 'RUN yarn install', 'RUN yarn install && yarn cache clean'],
  ['DL3061', 'error', 'Invalid instruction order. Dockerfile must begin with `FROM`, `ARG` or comment.', 'LABEL a=b\nFROM debian:12', 'FROM debian:12\nLABEL a=b'],
  ['DL3062', 'warning', 'Pin versions in go install. Instead of `go install <package>` use `go install <package>@<version>`', 'RUN go install golang.org/x/tools/gopls', 'RUN go install golang.org/x/tools/gopls@v0.16.1'],
  ['DL3063', 'warning', 'Stage name should not be a reserved word', 'FROM debian:12 AS scratch', 'FROM debian:12 AS base'],
  ['DL3064', 'warning', 'Potentially sensitive data should not be used in the `ARG` or `ENV` commands', 'ARG GITHUB_TOKEN', 'RUN --mount=type=secret,id=github_token make'],
  ['DL3065', 'warning', 'Setting FROM --platform to predefined $TARGETPLATFORM in is redundant as this is the default behavior', 'FROM --platform=$TARGETPLATFORM debian:12', 'FROM debian:12'],
  ['DL3066', 'info', 'Non-numeric user-id may not be resolvable by host system', 'USER app', 'USER 10001'],
  ['DL3067', 'warning', 'Do not copy an entire filesystem from another stage', 'FROM golang:1.22 AS build\nFROM debian:12.6\nCOPY --from=build / /', 'FROM golang:1.22 AS build\nFROM debian:12.6\nCOPY --from=build /out/app /usr/local/bin/app'],
  ['DL4000', 'error', '`MAINTAINER` is deprecated.', 'MAINTAINER ops@example.com', 'LABEL maintainer="ops@example.com"'],
  ['DL4001', 'warning', 'Either use Wget or Curl but not both.', 'RUN wget -q https://a.example/x\nRUN curl -fsSL https://b.example/y', 'RUN curl -fsSLO https://a.example/x && curl -fsSL https://b.example/y'],
  ['DL4003', 'warning', 'Multiple `CMD` instructions found.', 'FROM debian:12.6\nCMD ["a"]\nCMD ["b"]', 'FROM debian:12.6\nCMD ["b"]'],
  ['DL4004', 'error', 'Multiple `ENTRYPOINT` instructions found.', 'FROM debian:12.6\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]', 'FROM debian:12.6\nENTRYPOINT ["b"]'],
  ['DL4005', 'warning', 'Use `SHELL` to change the default shell.', 'RUN ln -sf /bin/bash /bin/sh', 'SHELL ["/bin/bash", "-c"]'],
  ['DL4006', 'warning', 'Set the `SHELL` option -o pipefail before `RUN` with a pipe in it', 'RUN wget -O - https://example.com | wc -l', 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN wget -O - https://example.com | wc -l'],
];

const PL: Row[] = [
  ['PL0001', 'error', 'The file cannot be read as a Dockerfile (binary or empty input, unknown instruction, missing arguments, unterminated here-document, broken exec form, shell syntax error in RUN).', 'FORM debian:12\nRUN <<EOF\necho never closed', 'FROM debian:12\nRUN <<EOF\necho closed\nEOF'],
  ['PL1001', 'warning', '`DEBIAN_FRONTEND` set with `ENV`: it persists into the image and every container and child image; use `ARG`.', 'ENV DEBIAN_FRONTEND=noninteractive', 'ARG DEBIAN_FRONTEND=noninteractive', true],
  ['PL1002', 'warning', 'Consecutive `RUN`s that belong in one layer: an index update in its own layer (stale cache), a clean-up in a later layer (saves nothing), or installs with the same package manager split over layers.', 'RUN apt-get update\nRUN apt-get install -y --no-install-recommends curl\nRUN rm -rf /var/lib/apt/lists/*', 'RUN apt-get update \\\n && apt-get install -y --no-install-recommends curl \\\n && rm -rf /var/lib/apt/lists/*', true],
  ['PL1003', 'warning', 'The whole build context is copied before dependencies are installed, so any source change re-runs the install; copy the dependency manifests first.', 'FROM python:3.12-slim\nCOPY . /app\nRUN pip install --no-cache-dir -r /app/requirements.txt', 'FROM python:3.12-slim\nCOPY requirements.txt /app/\nRUN pip install --no-cache-dir -r /app/requirements.txt\nCOPY . /app'],
  ['PL1004', 'warning', 'No `USER` in the final stage: the container runs as root.', 'FROM python:3.12-slim\nCMD ["python", "app.py"]', 'FROM python:3.12-slim\nUSER 10001\nCMD ["python", "app.py"]'],
  ['PL1005', 'warning', 'Secret-looking `ENV`/`ARG` name or value not caught by DL3064 (keys, credentials, passwords, tokens in values); secrets persist in the image history.', 'ENV DB_PASSWD=hunter2\nARG SIGNING_KEY', 'RUN --mount=type=secret,id=db_passwd ./configure'],
  ['PL1006', 'warning', 'Package upgrade in the image (`apt-get upgrade`, `dist-upgrade`, `apk upgrade`, `yum/dnf update`): unpinned, non-reproducible layers; rebuild from a newer base instead.', 'RUN apt-get update && apt-get upgrade -y', 'FROM debian:12.6\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5'],
  ['PL1007', 'warning', '`ADD` where `COPY` would do: a local source that `ADD` does not extract (compressed single file, here-document) behaves exactly like `COPY` (plain files and directories are reported by DL3020).', 'ADD data.csv.gz /srv/', 'COPY data.csv.gz /srv/'],
  ['PL1008', 'warning', 'Port 22 exposed: an SSH server in a container is an attack surface; use `docker exec`.', 'EXPOSE 22', 'EXPOSE 8000'],
  ['PL1009', 'warning', 'The whole context (`.`) is copied but the context has no `.dockerignore`: `.git`, secrets and build output end up in the image.', '# the context has no .dockerignore\nCOPY . /app', '# copy only what the image needs (or add a .dockerignore)\nCOPY src/ /app/src/'],
  ['PL1010', 'warning', 'Variable used but never defined by `ARG` or `ENV` (it expands to an empty string).', 'FROM debian:12\nWORKDIR /srv/$APP_NAME', 'FROM debian:12\nARG APP_NAME=api\nWORKDIR /srv/$APP_NAME'],
  ['PL1011', 'warning', 'Image without a tag or with `latest` once `ARG` defaults are substituted, or used by `COPY --from` / `RUN --mount from=` (plain `FROM` cases are DL3006/DL3007).', 'ARG TAG=latest\nFROM node:${TAG}\nCOPY --from=busybox /bin/sh /sh', 'ARG TAG=20.15-slim\nFROM node:${TAG}\nCOPY --from=busybox:1.36 /bin/sh /sh'],
  ['PL1012', 'info', 'Compilers or build tools installed in the final stage; build in an earlier stage and copy only the result.', 'FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev', 'FROM python:3.12 AS build\nRUN pip wheel -w /wheels -r requirements.txt\nFROM python:3.12-slim\nCOPY --from=build /wheels /wheels'],
];

function toInfo(row: Row, source: 'hadolint' | 'pitlane'): RuleInfo {
  const [code, severity, title, bad, good, fixable] = row;
  return { code, severity, title, bad, good, fixable: fixable === true, source };
}

/**
 * Every rule the linter reports, sorted by code: hadolint's 71 DL rules that still exist
 * (peers.md 3.1) and Pitlane's PL rules. `docs/lint-rules.md` is generated from this table.
 */
export const rules: readonly RuleInfo[] = Object.freeze([...DL.map((r) => toInfo(r, 'hadolint')), ...PL.map((r) => toInfo(r, 'pitlane'))].sort((a, b) => a.code.localeCompare(b.code)));

/** Rule lookup by code. */
export const ruleByCode: ReadonlyMap<string, RuleInfo> = new Map(rules.map((r) => [r.code, r]));

/**
 * Link to a rule's documentation: hadolint's wiki page for DL codes, an anchor in Pitlane's rule
 * document for PL codes.
 *
 * @param code rule code.
 * @param docsBaseUrl base of Pitlane's rule document (default `docs/lint-rules.md`).
 */
export function docsUrlFor(code: string, docsBaseUrl = 'docs/lint-rules.md'): string {
  if (code.startsWith('DL')) return `https://github.com/hadolint/hadolint/wiki/${code}`;
  return `${docsBaseUrl}#${code.toLowerCase()}`;
}
