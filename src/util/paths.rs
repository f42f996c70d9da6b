//! Paths relative to the config file.

use std::path::{Component, Path, PathBuf};

/// `base.join(rel)` with `.` and `..` folded away lexically, so messages show
/// `rules/a.yaml` rather than `examples/demo/../../rules/a.yaml`.
pub fn resolve(base: &Path, rel: impl AsRef<Path>) -> PathBuf {
    let joined = base.join(rel);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_dots() {
        assert_eq!(resolve(Path::new("examples/recsys"), "../../rules/*.yaml"), PathBuf::from("rules/*.yaml"));
        assert_eq!(resolve(Path::new("."), "../x"), PathBuf::from("../x"));
        assert_eq!(resolve(Path::new("/etc/mlwatch"), "/abs/p"), PathBuf::from("/abs/p"));
        assert_eq!(resolve(Path::new(""), "a/./b"), PathBuf::from("a/b"));
    }
}
