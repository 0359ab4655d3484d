// Pinned helpers for scripts/lint.sh. A module of its own so that nothing
// here is part of the main module's ./... (build, vet, tests, staticcheck).
module github.com/oauthlint/oauthlint/tools/lint

go 1.26.0

require golang.org/x/mod v0.42.0
