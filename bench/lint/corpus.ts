/**
 * Deterministic generator of realistic Dockerfiles for the lint benchmark (issue 4: "a corpus of
 * at least 200 realistic Dockerfiles written for the purpose (multi-stage, heredocs, long RUN
 * chains)").
 *
 * Twelve archetypes (Python pip/poetry/uv, Node, Go, Java, Rust, Ruby, PHP, Debian and Alpine system
 * images, heredoc-heavy images, Windows-style `# escape=`), each varied by a seeded PRNG: base tags,
 * package lists, chain lengths, good or bad practices. Same seed → same corpus.
 */

/** One generated Dockerfile. */
export interface CorpusEntry {
  /** e.g. `python-pip-017.Dockerfile` */
  name: string;
  text: string;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(private readonly rnd: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.rnd() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
  some<T>(xs: readonly T[], n: number): T[] {
    const copy = [...xs];
    const out: T[] = [];
    while (out.length < n && copy.length) out.push(copy.splice(Math.floor(this.rnd() * copy.length), 1)[0]!);
    return out;
  }
}

const APT = ['curl', 'ca-certificates', 'git', 'gnupg', 'libpq5', 'libssl3', 'tzdata', 'locales', 'unzip', 'jq', 'openssh-client', 'procps', 'less', 'netcat-openbsd', 'dumb-init', 'tini', 'wget', 'xz-utils', 'libxml2', 'libjpeg62-turbo', 'libpng16-16', 'fonts-dejavu-core', 'libffi8', 'zlib1g', 'libsqlite3-0', 'libyaml-0-2', 'imagemagick', 'ffmpeg', 'poppler-utils', 'ghostscript', 'build-essential', 'gcc', 'g++', 'make', 'libpq-dev', 'python3-dev', 'pkg-config', 'cmake'];
const APK = ['curl', 'ca-certificates', 'git', 'tzdata', 'bash', 'openssl', 'libstdc++', 'libgcc', 'jq', 'su-exec', 'tini', 'postgresql-client', 'gcc', 'musl-dev', 'make', 'linux-headers', 'libffi-dev', 'openssl-dev'];
const PIP = ['fastapi', 'uvicorn[standard]', 'sqlalchemy', 'alembic', 'pydantic', 'requests', 'numpy', 'pandas', 'gunicorn', 'celery', 'redis', 'psycopg2-binary', 'boto3', 'httpx', 'click'];
const NPM = ['express', 'pm2', 'typescript', 'ts-node', 'nodemon', 'serve', 'http-server'];

function ver(g: Gen): string {
  return `${g.int(0, 9)}.${g.int(0, 30)}.${g.int(0, 20)}`;
}

function aptChain(g: Gen, pkgs: string[], good: boolean, indent = '    '): string {
  const pinned = pkgs.map((p) => (good && g.bool(0.7) ? `${p}=${g.int(1, 9)}.${g.int(0, 9)}*` : p));
  const flags = good ? '-y --no-install-recommends' : g.pick(['-y', '', '-y --no-install-recommends', '-qq']);
  const lines = [`RUN apt-get update \\`, `${indent}&& apt-get install ${flags} \\`];
  for (const p of pinned) lines.push(`${indent}${indent}${p} \\`);
  if (good || g.bool(0.4)) {
    lines.push(`${indent}&& apt-get clean \\`);
    lines.push(`${indent}&& rm -rf /var/lib/apt/lists/*`);
  } else lines.push(`${indent}&& echo done`);
  return lines.join('\n');
}

function header(g: Gen): string {
  const out: string[] = [];
  if (g.bool(0.6)) out.push(`# syntax=docker/dockerfile:1.${g.int(4, 9)}`);
  if (g.bool(0.3)) out.push('# check=error=true');
  out.push(`# Generated benchmark Dockerfile #${g.int(1000, 9999)}`);
  return out.join('\n');
}

function user(g: Gen, good: boolean): string {
  if (!good && g.bool(0.5)) return '';
  return g.pick([`RUN groupadd -r app && useradd -r -g app -u ${g.int(1000, 65000)} app\nUSER app`, `USER ${g.int(1000, 65000)}`, 'USER nobody', `RUN useradd -u ${g.int(100000, 999999)} svc\nUSER svc`]);
}

function python(g: Gen, i: number): string {
  const good = g.bool(0.5);
  const py = g.pick(['3.10', '3.11', '3.12', '3.13']);
  const pk = g.some(PIP, g.int(3, 9)).map((p) => (good || g.bool(0.5) ? `${p}==${ver(g)}` : p));
  const multi = g.bool(0.6);
  const lines = [header(g)];
  lines.push(`ARG PYTHON_VERSION=${py}`);
  if (multi) {
    lines.push(`FROM python:\${PYTHON_VERSION}-slim AS builder`);
    lines.push('ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1');
    lines.push(aptChain(g, g.some(['build-essential', 'gcc', 'libpq-dev', 'python3-dev', 'pkg-config'], g.int(2, 4)), good));
    lines.push('WORKDIR /build');
    lines.push('COPY requirements.txt .');
    lines.push(good ? 'RUN --mount=type=cache,target=/root/.cache/pip pip wheel --wheel-dir /wheels -r requirements.txt' : 'RUN pip wheel --wheel-dir /wheels -r requirements.txt');
    lines.push(`FROM python:\${PYTHON_VERSION}-slim${g.bool(0.2) ? '' : ''} AS runtime`);
    lines.push(good ? 'ENV PYTHONUNBUFFERED=1' : g.pick(['ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1', 'ENV PYTHONUNBUFFERED 1']));
    lines.push(aptChain(g, g.some(['libpq5', 'curl', 'tini', 'ca-certificates', 'tzdata'], g.int(1, 4)), good));
    lines.push('COPY --from=builder /wheels /wheels');
    lines.push(`RUN pip install ${good ? '--no-cache-dir ' : ''}--no-index --find-links=/wheels /wheels/* && rm -rf /wheels`);
  } else {
    lines.push(`FROM python:${py}${g.pick(['', '-slim', '-bookworm'])}`);
    lines.push(g.pick(['ENV DEBIAN_FRONTEND noninteractive', 'ARG DEBIAN_FRONTEND=noninteractive']));
    for (let k = 0; k < g.int(1, 4); k++) lines.push(`RUN apt-get ${g.pick(['update', 'install -y ' + g.pick(APT)])}`);
    lines.push(`RUN pip install ${good ? '--no-cache-dir ' : ''}${pk.join(' ')}`);
  }
  lines.push('WORKDIR /app');
  if (g.bool(0.5)) lines.push('COPY . .');
  else lines.push('COPY app/ ./app/\nCOPY pyproject.toml ./');
  lines.push(`EXPOSE ${g.pick(['8000', '8080', '5000', '8000 22'])}`);
  lines.push(user(g, good));
  lines.push(`HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://localhost:8000/health || exit 1`);
  lines.push(good ? 'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]' : g.pick(['CMD uvicorn app.main:app --host 0.0.0.0', 'CMD ["gunicorn", "-w", "4", "app:app"]']));
  return lines.join('\n') + `\n# ${i}\n`;
}

function poetry(g: Gen, i: number): string {
  const good = g.bool(0.5);
  return `${header(g)}
FROM python:3.${g.int(10, 13)}-slim AS base
ENV PYTHONUNBUFFERED=1 \\
    POETRY_VERSION=${ver(g)} \\
    POETRY_HOME=/opt/poetry \\
    POETRY_VIRTUALENVS_IN_PROJECT=true
RUN pip install ${good ? '--no-cache-dir ' : ''}"poetry==\${POETRY_VERSION}"
WORKDIR /srv
${good ? 'COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root --only main' : 'COPY . .\nRUN poetry install --only main'}
${good ? 'COPY . .' : ''}
FROM base AS test
RUN poetry install --with dev && poetry run pytest -q
FROM python:3.${g.int(10, 13)}-slim
COPY --from=base /srv /srv
WORKDIR /srv
ENV PATH="/srv/.venv/bin:$PATH"
${user(g, good)}
ENTRYPOINT ["python", "-m", "service"]
# ${i}
`;
}

function uv(g: Gen, i: number): string {
  return `${header(g)}
FROM ghcr.io/astral-sh/uv:${ver(g)} AS uv
FROM python:3.12-slim-bookworm AS build
COPY --from=uv /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
WORKDIR /app
RUN --mount=type=cache,target=/root/.cache/uv \\
    --mount=type=bind,source=uv.lock,target=uv.lock \\
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\
    uv sync --locked --no-install-project --no-dev
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --locked --no-dev
FROM python:3.12-slim-bookworm
COPY --from=build --chown=app:app /app /app
ENV PATH="/app/.venv/bin:$PATH"
USER ${g.int(1000, 2000)}
CMD ["python", "-m", "app"]
# ${i}
`;
}

function node(g: Gen, i: number): string {
  const good = g.bool(0.5);
  const nv = g.pick(['18', '20', '22']);
  const pm = g.pick(['npm', 'yarn', 'pnpm']);
  const install = pm === 'npm' ? (good ? 'npm ci --omit=dev' : 'npm install') : pm === 'yarn' ? (good ? 'yarn install --frozen-lockfile && yarn cache clean' : 'yarn install') : 'corepack enable && pnpm install --frozen-lockfile';
  return `${header(g)}
FROM node:${good ? nv + '-alpine' : g.pick([nv, 'latest', nv + '-bullseye'])} AS deps
WORKDIR /usr/src/app
${good ? `COPY package*.json ${pm === 'yarn' ? 'yarn.lock ' : ''}./` : 'COPY . .'}
RUN ${install}
FROM node:${nv}-alpine AS build
WORKDIR /usr/src/app
COPY --from=deps /usr/src/app/node_modules ./node_modules
COPY . .
RUN ${pm === 'npm' ? 'npm run build' : `${pm} run build`} \\
    && ${pm === 'npm' ? 'npm prune --omit=dev' : 'echo pruned'}
${g.bool(0.4) ? `RUN npm install -g ${g.pick(NPM)}${good ? '@' + ver(g) : ''}` : ''}
FROM ${g.bool(0.5) ? `nginx:1.${g.int(20, 27)}-alpine` : `node:${nv}-alpine`}
${g.bool(0.5) ? 'COPY --from=build /usr/src/app/dist /usr/share/nginx/html' : 'COPY --from=build /usr/src/app /app'}
${g.bool(0.3) ? 'RUN apk add --update curl' : `RUN apk add --no-cache curl=${g.int(7, 8)}.${g.int(0, 9)}.0-r0 tini=0.19.0-r${g.int(0, 3)}`}
EXPOSE ${g.pick(['80', '3000', '8080'])}
${user(g, good)}
ENTRYPOINT ["/sbin/tini", "--"]
CMD ${good ? '["node", "server.js"]' : 'node server.js'}
# ${i}
`;
}

function goImage(g: Gen, i: number): string {
  const good = g.bool(0.6);
  return `${header(g)}
ARG GO_VERSION=1.${g.int(20, 23)}
FROM --platform=$BUILDPLATFORM golang:\${GO_VERSION}-bookworm AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
${good ? 'COPY go.mod go.sum ./\nRUN --mount=type=cache,target=/go/pkg/mod go mod download' : 'COPY . .\nRUN go mod download'}
${good ? 'COPY . .' : ''}
RUN --mount=type=cache,target=/root/.cache/go-build \\
    --mount=type=cache,target=/go/pkg/mod \\
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \\
    go build -trimpath -ldflags="-s -w -X main.version=${ver(g)}" -o /out/server ./cmd/server
RUN go install github.com/go-delve/delve/cmd/dlv${good ? '@v1.' + g.int(20, 23) + '.0' : ''}
FROM ${g.pick(['gcr.io/distroless/static-debian12:nonroot', 'alpine:3.' + g.int(17, 20), 'scratch', 'debian:bookworm-slim'])}
COPY --from=build /out/server /server
${g.bool(0.3) ? 'COPY --from=build / /' : ''}
${user(g, good)}
EXPOSE 8080
ENTRYPOINT ["/server"]
# ${i}
`;
}

function java(g: Gen, i: number): string {
  const good = g.bool(0.5);
  return `${header(g)}
FROM maven:3.9-eclipse-temurin-${g.pick(['17', '21'])} AS build
WORKDIR /workspace
COPY pom.xml .
RUN --mount=type=cache,target=/root/.m2 mvn -B -q dependency:go-offline
COPY src ./src
RUN --mount=type=cache,target=/root/.m2 mvn -B -q package -DskipTests \\
    && mkdir -p target/extracted \\
    && java -Djarmode=layertools -jar target/*.jar extract --destination target/extracted
FROM eclipse-temurin:${g.pick(['17', '21'])}-jre${g.bool(0.5) ? '-jammy' : ''}
${good ? '' : 'MAINTAINER platform@example.com'}
RUN ${good ? 'apt-get update && apt-get install -y --no-install-recommends curl=7.81.* && rm -rf /var/lib/apt/lists/*' : 'apt-get update && apt-get install -y curl wget'}
WORKDIR /app
COPY --from=build /workspace/target/extracted/dependencies/ ./
COPY --from=build /workspace/target/extracted/spring-boot-loader/ ./
COPY --from=build /workspace/target/extracted/snapshot-dependencies/ ./
COPY --from=build /workspace/target/extracted/application/ ./
${user(g, good)}
HEALTHCHECK CMD wget -qO- http://localhost:8080/actuator/health || exit 1
ENTRYPOINT ["java", "org.springframework.boot.loader.launch.JarLauncher"]
# ${i}
`;
}

function rust(g: Gen, i: number): string {
  return `${header(g)}
FROM rust:1.${g.int(70, 82)}-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version ${ver(g)}
WORKDIR /app
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json
FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --bin app
FROM debian:bookworm-slim AS runtime
${aptChain(g, ['ca-certificates', 'libssl3'], g.bool(0.5))}
COPY --from=builder /app/target/release/app /usr/local/bin/app
USER ${g.int(1000, 9000)}:${g.int(1000, 9000)}
ENTRYPOINT ["/usr/local/bin/app"]
# ${i}
`;
}

function ruby(g: Gen, i: number): string {
  const good = g.bool(0.5);
  return `${header(g)}
FROM ruby:3.${g.int(1, 3)}-slim AS build
ENV BUNDLE_WITHOUT="development:test" BUNDLE_DEPLOYMENT=1
${aptChain(g, ['build-essential', 'libpq-dev', 'git', 'pkg-config'], good)}
WORKDIR /rails
COPY Gemfile Gemfile.lock ./
RUN bundle install && rm -rf ~/.bundle/ "\${BUNDLE_PATH}"/ruby/*/cache
RUN gem install bundler${good ? ':' + ver(g) : ''} foreman
COPY . .
RUN SECRET_KEY_BASE_DUMMY=1 ./bin/rails assets:precompile
FROM ruby:3.${g.int(1, 3)}-slim
${aptChain(g, ['curl', 'libjemalloc2', 'postgresql-client'], good)}
COPY --from=build "\${BUNDLE_PATH}" "\${BUNDLE_PATH}"
COPY --from=build /rails /rails
WORKDIR /rails
${good ? 'RUN groupadd --system --gid 1000 rails && useradd rails --uid 1000 --gid 1000 --create-home --shell /bin/bash\nUSER 1000:1000' : ''}
${good ? '' : 'ENV RAILS_MASTER_KEY=0123456789abcdef0123456789abcdef'}
EXPOSE 3000
CMD ["./bin/thrust", "./bin/rails", "server"]
# ${i}
`;
}

function php(g: Gen, i: number): string {
  return `${header(g)}
FROM composer:2 AS vendor
WORKDIR /app
COPY composer.json composer.lock ./
RUN composer install --no-dev --no-scripts --prefer-dist --no-interaction
FROM php:8.${g.int(1, 3)}-fpm-alpine
RUN apk add --no-cache --virtual .build-deps $PHPIZE_DEPS icu-dev libzip-dev \\
    && docker-php-ext-install intl opcache pdo_mysql zip \\
    && apk del .build-deps \\
    && apk add --no-cache icu-libs libzip
COPY --from=vendor /app/vendor /var/www/html/vendor
COPY . /var/www/html
${g.bool(0.5) ? 'USER www-data' : ''}
# ${i}
`;
}

function debianSystem(g: Gen, i: number): string {
  const good = g.bool(0.4);
  const n = g.int(12, 36);
  const pkgs = g.some(APT, Math.min(n, APT.length));
  const base = g.pick(['debian:bookworm', 'debian:12.6-slim', 'ubuntu:22.04', 'ubuntu:24.04', 'ubuntu', 'debian:latest']);
  const lines = [header(g), `FROM ${base}`, good ? 'ARG DEBIAN_FRONTEND=noninteractive' : 'ENV DEBIAN_FRONTEND=noninteractive', 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]'];
  lines.push(aptChain(g, pkgs, good));
  if (!good) lines.push('RUN apt-get upgrade -y');
  lines.push(`RUN curl -fsSL https://deb.nodesource.com/setup_${g.pick(['18', '20'])}.x | bash - \\
    && apt-get install -y nodejs \\
    && npm install -g npm@${ver(g)} \\
    && npm cache clean --force`);
  lines.push(`RUN set -eux; \\
    arch="$(dpkg --print-architecture)"; \\
    case "$arch" in \\
        amd64) url='https://example.com/tool-amd64.tar.gz'; sha='${'a'.repeat(64)}' ;; \\
        arm64) url='https://example.com/tool-arm64.tar.gz'; sha='${'b'.repeat(64)}' ;; \\
        *) echo >&2 "unsupported architecture: $arch"; exit 1 ;; \\
    esac; \\
    wget -O tool.tgz "$url" --progress=dot:giga; \\
    echo "$sha *tool.tgz" | sha256sum -c -; \\
    tar -xzf tool.tgz -C /usr/local --strip-components=1; \\
    rm tool.tgz; \\
    tool --version`);
  for (let k = 0; k < g.int(2, 8); k++) {
    lines.push(`# step ${k}`);
    lines.push(g.pick([`RUN mkdir -p /opt/app/${k} && chmod 755 /opt/app/${k}`, `RUN echo "setting ${k}" > /etc/app-${k}.conf`, `RUN ln -sf /usr/share/zoneinfo/UTC /etc/localtime`, `RUN cd /opt && ls -la`, `RUN useradd -m user${k} || true`]));
  }
  lines.push(`LABEL org.opencontainers.image.title="system-${i}" org.opencontainers.image.version="${ver(g)}" maintainer="ops@example.com"`);
  lines.push(`WORKDIR ${g.pick(['/opt/app', 'opt/app', '/srv'])}`);
  lines.push(`ENV PATH=/opt/app/bin:$PATH LANG=C.UTF-8`);
  lines.push(user(g, good));
  lines.push(`CMD ${g.pick(['["bash"]', 'bash', '["/opt/app/bin/start"]'])}`);
  return lines.join('\n') + `\n# ${i}\n`;
}

function alpineSystem(g: Gen, i: number): string {
  const good = g.bool(0.5);
  const pkgs = g.some(APK, g.int(4, 12)).map((p) => (good ? `${p}=${g.int(1, 9)}.${g.int(0, 9)}.${g.int(0, 9)}-r${g.int(0, 5)}` : p));
  return `${header(g)}
FROM alpine:3.${g.int(16, 20)}
RUN ${good ? 'apk add --no-cache' : g.pick(['apk add', 'apk add --update', 'apk update && apk add'])} \\
    ${pkgs.join(' \\\n    ')}
RUN addgroup -S app && adduser -S -G app app
COPY --chown=app:app entrypoint.sh /usr/local/bin/
${g.bool(0.3) ? 'ADD config.tar.gz /etc/app/' : 'COPY config/ /etc/app/'}
${g.bool(0.3) ? 'ADD https://example.com/release.tar.gz /tmp/' : ''}
${g.bool(0.2) ? 'ADD settings.json /etc/app/' : ''}
USER app
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
# ${i}
`;
}

function heredocs(g: Gen, i: number): string {
  const steps = g.int(4, 14);
  const body: string[] = ['set -eux'];
  for (let k = 0; k < steps; k++) {
    body.push(
      g.pick([
        'apt-get update',
        `apt-get install -y --no-install-recommends ${g.some(APT, g.int(2, 5)).join(' ')}`,
        `pip install --no-cache-dir ${g.pick(PIP)}==${ver(g)}`,
        `if [ -f /etc/os-release ]; then . /etc/os-release; echo "$ID"; fi`,
        `for d in a b c; do mkdir -p "/data/$d"; done`,
        `curl -fsSL https://example.com/install.sh | sh`,
        `echo "export X=${k}" >> /etc/profile.d/x.sh`,
        'rm -rf /var/lib/apt/lists/*',
      ]),
    );
  }
  return `# syntax=docker/dockerfile:1.7
FROM debian:bookworm-slim AS base
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN <<EOF
${body.join('\n')}
EOF
RUN <<-'SCRIPT' bash
\tset -e
\techo "indented heredoc"
\tcd /tmp && touch marker
\tSCRIPT
COPY <<EOF /etc/app/config.yaml
server:
  port: ${g.int(1000, 9999)}
  workers: ${g.int(1, 16)}
EOF
COPY --chmod=755 <<'EOT' /usr/local/bin/entry
#!/bin/sh
exec "$@"
EOT
RUN python3 <<PY
print("hello from python heredoc")
PY
FROM base
USER ${g.int(1000, 2000)}
ENTRYPOINT ["/usr/local/bin/entry"]
CMD ["sleep", "infinity"]
# ${i}
`;
}

function windows(g: Gen, i: number): string {
  return `# escape=\`
FROM mcr.microsoft.com/windows/servercore:ltsc${g.pick(['2019', '2022'])}
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]
RUN Invoke-WebRequest -Uri https://example.com/app.zip -OutFile app.zip ; \`
    Expand-Archive app.zip -DestinationPath C:\\app ; \`
    Remove-Item app.zip -Force
WORKDIR C:\\app
COPY config.json C:\\app\\
ENV APP_HOME=C:\\app
EXPOSE 80
CMD ["C:\\\\app\\\\app.exe"]
# ${i}
`;
}

const ARCHETYPES: Array<[string, (g: Gen, i: number) => string]> = [
  ['python-pip', python],
  ['python-poetry', poetry],
  ['python-uv', uv],
  ['node', node],
  ['go', goImage],
  ['java', java],
  ['rust', rust],
  ['ruby', ruby],
  ['php', php],
  ['debian-system', debianSystem],
  ['alpine-system', alpineSystem],
  ['heredocs', heredocs],
  ['windows', windows],
];

/**
 * Generates the benchmark corpus.
 *
 * @param count number of Dockerfiles (default 260, i.e. 20 per archetype).
 * @param seed PRNG seed (default 4).
 */
export function generateCorpus(count = 260, seed = 4): CorpusEntry[] {
  const g = new Gen(mulberry32(seed));
  const out: CorpusEntry[] = [];
  for (let i = 0; i < count; i++) {
    const [kind, make] = ARCHETYPES[i % ARCHETYPES.length]!;
    const text = make(g, i).replace(/\n{3,}/g, '\n\n');
    out.push({ name: `${kind}-${String(i).padStart(3, '0')}.Dockerfile`, text });
  }
  return out;
}
