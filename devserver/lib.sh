# Shared by devserver/bin/*: finds Temporal's official servers, or obtains them into a cache
# outside the repository. Sourced, not run. Every step reports to stderr so that stdout stays the
# server's own.

# Pinned releases. The CLI release must have no `replace` directive in its go.mod, or
# `go install` refuses it (v1.5.1 carries Temporal Server 1.29.1 and UI 2.42.1).
TEMPORAL_CLI_VERSION=v1.5.1
TEMPORAL_CLI_MODULE=github.com/temporalio/cli/cmd/temporal
TEMPORAL_TEST_SERVER_VERSION=1.31.0
# The SDK whose download we reuse when one is already on disk or the network allows.
TEMPORAL_SDK_NAME=sdk-typescript
TEMPORAL_SDK_VERSION=1.24.0

NURTURE_CACHE_DIR=${NURTURE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nurture}

say() { echo "[devserver] $*" >&2; }

# Succeeds when $1 names an executable file that is not the script currently running
# (devserver/bin may itself be on PATH).
usable_exe() {
  [ -n "$1" ] && [ -x "$1" ] && [ ! -d "$1" ] && [ "$(readlink -f "$1")" != "$(readlink -f "$0")" ]
}

# Looks on PATH for $1, skipping this very script.
on_path() {
  local candidate
  while IFS= read -r candidate; do
    usable_exe "$candidate" && { echo "$candidate"; return 0; }
  done < <(type -ap "$1" 2>/dev/null)
  return 1
}

# The SDK's own download: first a copy it already left in the temp directory, then the same
# request it would make to temporal.download. Fails fast without network.
# $1 artifact (cli | temporal-test-server), $2 file prefix, $3 preferred archive format or "".
sdk_download() {
  local artifact=$1 prefix=$2 format=$3
  local dest="${TMPDIR:-/tmp}/$prefix-$TEMPORAL_SDK_NAME-$TEMPORAL_SDK_VERSION"
  if usable_exe "$dest"; then echo "$dest"; return 0; fi
  [ "${NURTURE_OFFLINE:-}" = 1 ] && return 1
  command -v curl >/dev/null || return 1
  local query="arch=amd64&platform=linux&sdk-name=$TEMPORAL_SDK_NAME&sdk-version=$TEMPORAL_SDK_VERSION"
  [ -n "$format" ] && query="$query&format=$format"
  local info archive_url file_in_archive
  info=$(curl -fsS --connect-timeout 5 --max-time 15 "https://temporal.download/$artifact/default?$query" 2>/dev/null) || return 1
  archive_url=$(node -e 'const i=JSON.parse(process.argv[1]);console.log(i.archiveUrl)' "$info") || return 1
  file_in_archive=$(node -e 'const i=JSON.parse(process.argv[1]);console.log(i.fileToExtract)' "$info") || return 1
  local work
  work=$(mktemp -d)
  if curl -fsSL --connect-timeout 5 --max-time 600 "$archive_url" -o "$work/archive" \
    && tar -xzf "$work/archive" -C "$work" "$file_in_archive" 2>/dev/null; then
    mv "$work/$file_in_archive" "$dest" && chmod +x "$dest"
  fi
  rm -rf "$work"
  usable_exe "$dest" && echo "$dest"
}

# Temporal CLI built from the Go module proxy at the pinned release.
cli_cache_path() { echo "$NURTURE_CACHE_DIR/temporal-cli-$TEMPORAL_CLI_VERSION/temporal"; }

build_cli_with_go() {
  command -v go >/dev/null || { say "go is not installed"; return 1; }
  local dest
  dest=$(cli_cache_path)
  mkdir -p "$(dirname "$dest")"
  say "building the Temporal CLI $TEMPORAL_CLI_VERSION with go install (first time only: several minutes, ~3 GB of Go caches)"
  local started=$SECONDS
  GOBIN="$(dirname "$dest")" GOFLAGS=-buildvcs=false go install \
    -ldflags "-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION#v}" \
    "$TEMPORAL_CLI_MODULE@$TEMPORAL_CLI_VERSION" >&2 || return 1
  say "built $dest in $((SECONDS - started)) s"
  usable_exe "$dest"
}

# Echoes the path of an official Temporal CLI, obtaining one if needed.
find_temporal_cli() {
  local exe
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    usable_exe "$TEMPORAL_CLI_PATH" && { echo "$TEMPORAL_CLI_PATH"; return 0; }
    say "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"; return 1
  fi
  exe=$(on_path temporal) && { echo "$exe"; return 0; }
  exe=$(cli_cache_path); usable_exe "$exe" && { echo "$exe"; return 0; }
  exe=$(sdk_download cli temporal tar.gz) && { echo "$exe"; return 0; }
  mkdir -p "$NURTURE_CACHE_DIR"
  (
    flock 9
    usable_exe "$(cli_cache_path)" || build_cli_with_go
  ) 9>"$NURTURE_CACHE_DIR/cli.lock" && { cli_cache_path; return 0; }
  cat >&2 <<EOF
[devserver] Could not find or obtain the Temporal CLI. Tried, in order:
  1. TEMPORAL_CLI_PATH (unset)
  2. \`temporal\` on PATH (none)
  3. the cached build $(cli_cache_path) (absent)
  4. the SDK's download from temporal.download (unreachable or NURTURE_OFFLINE=1)
  5. go install $TEMPORAL_CLI_MODULE@$TEMPORAL_CLI_VERSION (failed; see above)
Fix: install Go (https://go.dev/dl) with access to a Go module proxy, or download the Temporal CLI
yourself and set TEMPORAL_CLI_PATH to it.
EOF
  return 1
}

# Temporal's time-skipping test server from Maven Central, run on the JVM.
test_server_dir() { echo "$NURTURE_CACHE_DIR/temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION"; }

fetch_test_server_with_maven() {
  command -v mvn >/dev/null || { say "mvn is not installed"; return 1; }
  command -v java >/dev/null || { say "java is not installed"; return 1; }
  local dir
  dir=$(test_server_dir)
  mkdir -p "$dir"
  cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>nurture.devserver</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$TEMPORAL_TEST_SERVER_VERSION</version>
    </dependency>
    <!-- Silences SLF4J's "no binding" warning on every start; the server logs nothing we read. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
  say "resolving io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION from Maven Central (first time only)"
  local started=$SECONDS
  rm -rf "$dir/lib.partial"
  mvn -B -Dstyle.color=never --no-transfer-progress -f "$dir/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$dir/lib.partial" -DincludeScope=runtime >"$dir/maven.log" 2>&1 \
    || { cat "$dir/maven.log" >&2; return 1; }
  rm -rf "$dir/lib" && mv "$dir/lib.partial" "$dir/lib"
  say "resolved $(ls "$dir/lib" | wc -l) jars in $((SECONDS - started)) s"
  write_class_data_archive "$dir"
}

# A JVM class-data archive cuts the test server's start-up (the SDK waits only a few seconds for
# it). It is written when a JVM started with -XX:ArchiveClassesAtExit exits normally.
write_class_data_archive() {
  local dir=$1 port pid
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  java -XX:ArchiveClassesAtExit="$dir/classes.jsa" -cp "$dir/lib/*" io.temporal.testserver.TestServer "$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ -f "$dir/classes.jsa" ] && say "wrote a class-data archive for faster starts"
  return 0
}

# Echoes, one per line, the command that runs the official test server (without its arguments).
find_test_server_command() {
  local exe dir
  if [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
    usable_exe "$TEMPORAL_TEST_SERVER_PATH" && { echo "$TEMPORAL_TEST_SERVER_PATH"; return 0; }
    say "TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH is not an executable file"; return 1
  fi
  exe=$(on_path temporal-test-server) && { echo "$exe"; return 0; }
  dir=$(test_server_dir)
  if [ ! -d "$dir/lib" ]; then
    exe=$(sdk_download temporal-test-server temporal-test-server "") && { echo "$exe"; return 0; }
    mkdir -p "$NURTURE_CACHE_DIR"
    (
      flock 9
      [ -d "$dir/lib" ] || fetch_test_server_with_maven
    ) 9>"$NURTURE_CACHE_DIR/test-server.lock" || {
      cat >&2 <<EOF
[devserver] Could not find or obtain Temporal's test server. Tried, in order:
  1. TEMPORAL_TEST_SERVER_PATH (unset)
  2. \`temporal-test-server\` on PATH (none)
  3. the cached classpath $dir/lib (absent)
  4. the SDK's download from temporal.download (unreachable or NURTURE_OFFLINE=1)
  5. Maven Central io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION (failed; see above)
Fix: install Java 11+ and Maven with access to Maven Central, or download the test server
yourself and set TEMPORAL_TEST_SERVER_PATH to it.
EOF
      return 1
    }
  fi
  echo java
  echo -XX:TieredStopAtLevel=1
  echo -XX:+UseSerialGC
  [ -f "$dir/classes.jsa" ] && echo "-XX:SharedArchiveFile=$dir/classes.jsa"
  echo -cp
  echo "$dir/lib/*"
  echo io.temporal.testserver.TestServer
}
