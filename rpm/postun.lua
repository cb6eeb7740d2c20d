-- Runs after the package is removed or upgraded, inside rpm (no shell, so
-- the static package needs no /bin/sh). cargo-generate-rpm writes no
-- directory entries, so the package cannot own its doc and licence
-- directories; this removes them when they are empty. During an upgrade
-- the new version's files are already there, so the removal fails and the
-- directories stay.
for _, dir in ipairs({
  "/usr/share/doc/docker-credential-atcr",
  "/usr/share/licenses/docker-credential-atcr",
}) do
  os.remove(dir)
end
