import { describe, expect, it } from 'vitest';
import { lintDockerfile } from '../../../src/dockerfile/index.js';
import { codes, optionsFor } from './helpers.js';

const F = 'FROM debian:12.6\n';

/** [code, failing Dockerfile, passing Dockerfile] beyond the documented examples; hadolint's own test cases where they exist. */
const CASES: Array<[string, string, string]> = [
  ['DL3000', `${F}WORKDIR "relative/dir"`, `${F}WORKDIR $HOME\nWORKDIR C:\\\\app\nWORKDIR "/abs"`],
  ['DL3001', `${F}RUN apt-get update && ps aux`, `${F}RUN echo ps aux`],
  ['DL3002', 'FROM debian:12.6\nUSER 1000\nUSER root:root', 'FROM debian:12.6 AS a\nUSER root\nUSER 1000'],
  ['DL3002', 'FROM debian:12.6 AS a\nUSER 0\nFROM a\nUSER 1000', 'FROM debian:12.6\nUSER root\nRUN make\nUSER app'],
  ['DL3003', `${F}RUN make && (cd /tmp && ls)`, `${F}RUN echo cd /tmp`],
  ['DL3004', `${F}RUN if true; then sudo make install; fi`, `${F}RUN gosu app make install`],
  ['DL3006', 'FROM registry.example.com:5000/team/app AS x', 'FROM debian:12.6 AS base\nFROM base\nFROM scratch\nFROM debian@sha256:abc'],
  ['DL3007', 'FROM ghcr.io/org/app:latest', 'FROM debian:latest@sha256:0123'],
  ['DL3008', `${F}RUN apt-get update && apt-get -y --no-install-recommends install "curl" wget=1.21`, `${F}RUN apt-get install -y -t bookworm-backports curl=8.0 ./local.deb foo/bookworm`],
  ['DL3009', `${F}RUN apt-get update \\\n && apt-get install -y --no-install-recommends curl=8.0`, `${F}RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y --no-install-recommends curl=8.0`],
  ['DL3009', 'FROM debian:12.6 AS base\nRUN apt-get update\nFROM base\nRUN make', 'FROM debian:12.6 AS build\nRUN apt-get update && apt-get install -y --no-install-recommends gcc=12\nFROM debian:12.6\nCOPY --from=build /x /x'],
  ['DL3010', `${F}COPY --chown=1:1 pkg.tar.xz /tmp/\nRUN tar xJf /tmp/pkg.tar.xz`, `${F}COPY pkg.tar.xz /tmp/\nRUN cp /tmp/pkg.tar.xz /srv/`],
  ['DL3011', `${F}EXPOSE 80/tcp 65536/udp`, `${F}EXPOSE 80/tcp 65535/udp 8000-8010 $PORT`],
  ['DL3013', `${F}RUN python3 -m pip install --no-cache-dir requests`, `${F}RUN pip install --no-cache-dir -r requirements.txt && pip install --no-cache-dir . && pip install --no-cache-dir 'flask>=3' git+https://x/y@v1 ./pkg.whl`],
  ['DL3014', `${F}RUN apt-get update && apt-get install --no-install-recommends curl=8`, `${F}RUN apt-get install -qq curl=8 --no-install-recommends && apt-get --assume-yes install --no-install-recommends x=1`],
  ['DL3015', `${F}RUN apt-get -y install curl=8`, `${F}RUN apt-get -y -o APT::Install-Recommends=false install curl=8 && apt-get install -y APT::Install-Recommends=false x=1`],
  ['DL3016', `${F}RUN npm install --save-dev typescript @types/node@20`, `${F}RUN npm install && npm install express@4 @scope/pkg@1.0.0 ./local git+https://h/r.git#abc pkg.tgz`],
  ['DL3018', `${F}RUN apk add --no-cache --virtual .deps gcc`, `${F}RUN apk add --no-cache --virtual .deps gcc=13.2.1-r0 musl~=1.2 ./pkg.apk`],
  ['DL3019', `${F}RUN apk update && apk add curl=8.0`, `${F}RUN --mount=type=cache,target=/var/cache/apk apk add curl=8.0`],
  ['DL3020', `${F}ADD --chown=1:1 ./src /app/src`, `${F}ADD https://example.com/x.bin /x\nADD app.tgz /opt/`],
  ['DL3021', `${F}COPY ["a", "b", "/dst"]`, `${F}COPY ["a", "b", "/dst/"]\nCOPY a /single`],
  ['DL3022', 'FROM debian:12.6\nCOPY --from=builder /a /a', 'FROM debian:12.6 AS builder\nFROM debian:12.6\nCOPY --from=0 /a /a\nCOPY --from=builder /a /a\nCOPY --from=nginx:1.27 /etc/nginx /etc/nginx'],
  ['DL3023', 'FROM debian:12.6 AS Self\nCOPY --from=self /a /b', 'FROM debian:12.6 AS one\nFROM debian:12.6 AS two\nCOPY --from=one /a /b'],
  ['DL3024', 'FROM debian:12.6 AS x\nFROM debian:12.6 AS X', 'FROM debian:12.6 AS x\nFROM debian:12.6 AS y'],
  ['DL3025', `${F}ENTRYPOINT /bin/app --flag`, `${F}ENTRYPOINT ["/bin/app", "--flag"]\nCMD []`],
  ['DL3027', `${F}RUN apt update`, `${F}RUN apt-cache policy curl`],
  ['DL3028', `${F}RUN gem install rails bundler:2.5`, `${F}RUN gem install rails -v 7.1 && gem install bundler --version=2.5 && gem install rake:13.0`],
  ['DL3029', 'FROM --platform=linux/arm64 debian:12.6', 'FROM --platform=$BUILDPLATFORM golang:1.22'],
  ['DL3030', `${F}RUN yum groupinstall "Development Tools" && yum clean all`, `${F}RUN yum install --assumeyes httpd-2.4 && yum clean all`],
  ['DL3032', `${F}RUN yum install -y httpd-2.4 && yum clean metadata`, `${F}RUN yum install -y httpd-2.4 && rm -rf /var/cache/yum`],
  ['DL3033', `${F}RUN yum module install -y nodejs && yum clean all`, `${F}RUN yum module install -y nodejs:20 && yum install -y ./x.rpm && yum clean all`],
  ['DL3034', `${F}RUN zypper rm curl && zypper clean`, `${F}RUN zypper --non-interactive install --no-confirm curl=8 && zypper clean`],
  ['DL3035', `${F}RUN zypper dup -y`, `${F}RUN zypper refresh`],
  ['DL3036', `${F}RUN zypper clean && zypper install -y curl=8`, `${F}RUN --mount=type=cache,target=/var/cache/zypp zypper install -y curl=8`],
  ['DL3037', `${F}RUN zypper in -y curl && zypper clean`, `${F}RUN zypper in -y 'curl>=8' ./x.rpm && zypper clean`],
  ['DL3038', `${F}RUN microdnf install httpd-2.4.57 && microdnf clean all`, `${F}RUN dnf --assumeyes install httpd-2.4.57 && dnf clean all`],
  ['DL3040', `${F}RUN microdnf install -y httpd-2.4.57`, `${F}RUN dnf install -y httpd-2.4.57 && rm -rf /var/cache/yum/*`],
  ['DL3041', `${F}RUN dnf install -y httpd-latest && dnf clean all`, `${F}RUN dnf install -y httpd-2.4.57-1.el9 && dnf module install -y nodejs:20 && dnf clean all`],
  ['DL3042', `${F}RUN python -m pip install flask==3.0`, `${F}ENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3.0\nRUN PIP_NO_CACHE_DIR=true pip install x==1\nRUN pipx install black==24.1\nRUN --mount=type=cache,target=/root/.cache/pip pip install y==1`],
  ['DL3042', 'FROM python:3.12 AS base\nFROM base\nRUN pip install x==1', 'FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=yes\nFROM base\nRUN pip install x==1'],
  ['DL3043', `${F}ONBUILD ONBUILD RUN x`, `${F}ONBUILD COPY . /app`],
  ['DL3044', `${F}ENV A=1 B="\${A}/x"`, `${F}ARG A=1\nENV A=2 B=$A/x C=$AB`],
  ['DL3045', 'FROM debian:12.6 AS a\nWORKDIR /w\nFROM debian:12.6\nCOPY x y', 'FROM debian:12.6 AS a\nWORKDIR /w\nFROM a\nCOPY x y\nCOPY z /abs\nCOPY z $DEST'],
  ['DL3046', `${F}RUN useradd --uid=1000000 app`, `${F}RUN useradd --no-log-init -u 1000000 app && useradd -u 1000 small`],
  ['DL3047', `${F}RUN wget http://x/y`, `${F}RUN wget -nv http://x/y && wget -q http://x && wget --progress=bar:force http://x`],
  ['DL3048', `${F}LABEL com.docker.thing=1`, `${F}LABEL org.opencontainers.image.title=x version-2=y`],
  ['DL3059', `${F}RUN a\n# comment\nRUN b`, `${F}RUN a && b && c\nRUN d\nRUN --mount=type=cache,target=/x e\nRUN f`],
  ['DL3060', `${F}RUN yarn install --frozen-lockfile`, `${F}RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install`],
  ['DL3061', 'ENV A=1\nFROM debian:12.6', '# comment\nARG V=12\nFROM debian:$V'],
  ['DL3062', `${F}RUN go install golang.org/x/tools/cmd/goimports@v0.20.0 github.com/a/b`, `${F}RUN go install ./cmd/... && go install example.com/x@latest`],
  ['DL3063', 'FROM debian:12.6 AS context', 'FROM debian:12.6 AS builder'],
  ['DL3064', `${F}ENV AWS_SECRET_ACCESS_KEY=x`, `${F}ENV SECRETARY_MODE=0`.replace('SECRETARY_MODE', 'PUBLIC_URL')],
  ['DL3065', 'FROM --platform=${TARGETPLATFORM} debian:12.6', 'FROM --platform=${BUILDPLATFORM} debian:12.6'],
  ['DL3066', `${F}USER app:1000`, `${F}USER 1000:1000\nUSER $UID`],
  ['DL4001', `${F}RUN curl -fsSL x | sh\nRUN apt-get update\nRUN wget -q y`, 'FROM debian:12.6\nRUN curl -fsSL x\nFROM debian:12.6\nRUN wget -q y'],
  ['DL4005', `${F}RUN ln -s /bin/bash /bin/sh`, `${F}RUN ln -s /bin/bash /usr/local/bin/sh`],
  ['DL4006', `${F}RUN curl -fsSL x | tar xz`, `${F}SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL x | tar xz\nFROM debian:12.6\nRUN set -o pipefail && curl x | sh\nSHELL ["pwsh", "-c"]\nRUN a | b`],
];

describe('DL rules: further failing and passing cases', () => {
  CASES.forEach(([code, bad, good], i) => {
    it(`${code} #${i}`, () => {
      const options = optionsFor(code);
      expect(codes(bad, options)).toContain(code);
      expect(codes(good, options)).not.toContain(code);
    });
  });

  it('DL3026 allows listed registries, wildcards, stage names and scratch', () => {
    const opts = { trustedRegistries: ['my.registry:5000', '*.gcr.io'] };
    expect(codes('FROM other.io/x:1', opts)).toContain('DL3026');
    expect(codes('FROM debian:12', opts)).toContain('DL3026');
    expect(codes('FROM my.registry:5000/x:1 AS a\nFROM eu.gcr.io/p/x:1\nFROM a\nFROM scratch', opts)).not.toContain('DL3026');
    expect(codes('FROM other.io/x:1')).not.toContain('DL3026');
  });

  it('label schema rules DL3049–DL3058', () => {
    const schema = {
      labelSchema: {
        maintainer: 'email' as const,
        'org.opencontainers.image.url': 'url' as const,
        'org.opencontainers.image.version': 'semver' as const,
        'org.opencontainers.image.created': 'rfc3339' as const,
        'org.opencontainers.image.revision': 'hash' as const,
        'org.opencontainers.image.licenses': 'spdx' as const,
      },
    };
    const good = `FROM debian:12.6
LABEL maintainer="ops@example.com" org.opencontainers.image.url="https://example.com/x" \\
      org.opencontainers.image.version="1.2.3-rc.1+build.5" org.opencontainers.image.created="2024-05-01T12:00:00+02:00" \\
      org.opencontainers.image.revision="0123456789abcdef0123456789abcdef01234567" org.opencontainers.image.licenses="Apache-2.0"`;
    expect(codes(good, schema).filter((c) => /^DL30(49|5\d)$/.test(c))).toEqual([]);
    const bad = `FROM debian:12.6
LABEL maintainer="nobody" org.opencontainers.image.url="not a url" org.opencontainers.image.version="1.2" \\
      org.opencontainers.image.created="2024-05-01" org.opencontainers.image.revision="xyz" org.opencontainers.image.licenses="Proprietary-ish"`;
    expect(codes(bad, schema)).toEqual(expect.arrayContaining(['DL3052', 'DL3053', 'DL3054', 'DL3055', 'DL3056', 'DL3058']));
    expect(codes('FROM debian:12.6\nLABEL maintainer=""', schema)).toContain('DL3051');
    // A stage only used by COPY --from does not need the labels.
    const multi = `FROM debian:12.6 AS build\nFROM debian:12.6\nCOPY --from=build /a /a\nLABEL maintainer=a@b.c`;
    expect(codes(multi, { labelSchema: { maintainer: 'email' } })).not.toContain('DL3049');
  });

  it('DL3057 is off by default and on when raised', () => {
    expect(codes('FROM debian:12.6')).not.toContain('DL3057');
    const f = lintDockerfile('FROM debian:12.6', { override: { warning: ['DL3057'] } }).findings.find((x) => x.code === 'DL3057');
    expect(f?.severity).toBe('warning');
  });

  it('shell rules see through quoting, continuations, comments in continuations and heredocs', () => {
    const text = `FROM debian:12.6
RUN apt-get update \\
    # a comment line inside the continuation
    && apt-get "install" \\
       curl
RUN <<EOF
set -e
apt-get install -y --no-install-recommends wget=1.21
EOF
RUN <<EOF python3
print("apt-get install nothing")
EOF
RUN echo 'apt-get install -y vim' && printf "%s" "sudo"`;
    const f = lintDockerfile(text).findings;
    const at = (code: string) => f.filter((x) => x.code === code).map((x) => x.line);
    // apt-get install on line 4 lacks -y and --no-install-recommends and pins nothing.
    expect(at('DL3014')).toEqual([4]);
    expect(at('DL3015')).toEqual([4]);
    expect(at('DL3008')).toEqual([4]);
    // The heredoc script is analysed (line 8 is pinned, has -y and --no-install-recommends); python bodies and quoted text are not.
    expect(at('DL3004')).toEqual([]);
    expect(f.filter((x) => x.code === 'DL3009').map((x) => x.line)).toEqual([2]);
  });

  it('the escape directive changes line continuation', () => {
    const text = '# escape=`\nFROM debian:12.6\nRUN apt-get update `\n  && apt-get install -y curl';
    const f = lintDockerfile(text).findings;
    expect(f.some((x) => x.code === 'DL3015' && x.line === 4)).toBe(true);
    expect(f.some((x) => x.code === 'PL0001')).toBe(false);
  });

  it('non-POSIX shells are not analysed', () => {
    const text = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN Get-Item x | Remove-Item ; apt-get install curl';
    expect(codes(text)).not.toContain('DL4006');
    expect(codes(text)).not.toContain('DL3014');
    expect(codes('FROM x:1\n# hadolint shell=pwsh\nRUN a | b')).not.toContain('DL4006');
  });

  it('ONBUILD RUN triggers are checked like RUN', () => {
    expect(codes('FROM debian:12.6\nONBUILD RUN sudo apt-get install curl')).toEqual(expect.arrayContaining(['DL3004', 'DL3014']));
  });

  it('exec-form RUN is analysed as its argv', () => {
    expect(codes('FROM debian:12.6\nRUN ["apt-get", "install", "curl"]')).toContain('DL3014');
    expect(codes('FROM debian:12.6\nRUN ["/bin/sh", "-c", "apt-get install curl | cat"]')).toEqual(expect.arrayContaining(['DL3014', 'DL4006']));
  });

  it('points shell findings at the command', () => {
    const f = lintDockerfile('FROM debian:12.6\nRUN echo hi && \\\n    sudo make').findings.find((x) => x.code === 'DL3004')!;
    expect([f.line, f.column, f.endLine]).toEqual([3, 5, undefined]);
    const g = lintDockerfile('FROM debian:12.6\nRUN a \\\n  && b').findings;
    expect(g.every((x) => x.line >= 1)).toBe(true);
  });
});
