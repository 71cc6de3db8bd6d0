//! Typed, path-aware reading of config JSON: every error says where it is.

use crate::json::{self, Value as Raw};
use serde_json::{Map, Value};

/// An error: (path, message).
pub type Res<T> = Result<T, (String, String)>;

/// A JSON object at a path.
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    at: String,
}

fn type_of(v: &Value) -> &'static str {
    crate::keys::json_type_name(v)
}

impl<'a> Obj<'a> {
    pub fn new(v: &'a Value, at: &str) -> Res<Obj<'a>> {
        match v.as_object() {
            Some(map) => Ok(Obj { map, at: at.to_string() }),
            None => Err((display(at), format!("must be an object, not {}", type_of(v)))),
        }
    }

    /// The path of member `name`.
    pub fn path(&self, name: &str) -> String {
        // A name that would not read as one path step (empty, or holding
        // path punctuation) is shown as a JSON string.
        let step = if name.is_empty() || name.contains(['.', '[', ']', '"']) {
            serde_json::to_string(name).unwrap_or_default()
        } else {
            name.to_string()
        };
        if self.at.is_empty() {
            step
        } else {
            format!("{}.{step}", self.at)
        }
    }

    /// Refuse members not in `known`.
    pub fn only(&self, known: &[&str]) -> Res<()> {
        for k in self.map.keys() {
            if !known.contains(&k.as_str()) {
                return Err((self.path(k), format!("unknown key (expected one of: {})", known.join(", "))));
            }
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name)
    }

    pub fn members(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.map.iter()
    }

    pub fn obj(&self, name: &str) -> Res<Option<Obj<'a>>> {
        self.map.get(name).map(|v| Obj::new(v, &self.path(name))).transpose()
    }

    pub fn str(&self, name: &str) -> Res<Option<&'a str>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err((self.path(name), format!("must be a string, not {}", type_of(v)))),
        }
    }

    pub fn array(&self, name: &str) -> Res<Option<&'a Vec<Value>>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(v) => Err((self.path(name), format!("must be an array, not {}", type_of(v)))),
        }
    }

    pub fn strings(&self, name: &str) -> Res<Option<Vec<String>>> {
        let Some(a) = self.array(name)? else { return Ok(None) };
        a.iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                v => Err((format!("{}[{i}]", self.path(name)), format!("must be a string, not {}", type_of(v)))),
            })
            .collect::<Res<Vec<_>>>()
            .map(Some)
    }

    /// An array of strings, or one string standing for a one-element array.
    pub fn strings_or_string(&self, name: &str) -> Res<Option<Vec<String>>> {
        match self.map.get(name) {
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            _ => self.strings(name),
        }
    }

    /// A number within `[min, max]`.
    pub fn num(&self, name: &str, min: f64, max: f64) -> Res<Option<f64>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if x.is_finite() && x >= min && x <= max {
                    Ok(Some(x))
                } else {
                    Err((self.path(name), format!("{n} is out of range")))
                }
            }
            Some(v) => Err((self.path(name), format!("must be a number, not {}", type_of(v)))),
        }
    }

    /// A whole number within `[0, max]`.
    pub fn uint(&self, name: &str, max: u64) -> Res<Option<u64>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(x) if x <= max => Ok(Some(x)),
                _ => Err((self.path(name), format!("must be a whole number from 0 to {max}, not {n}"))),
            },
            Some(v) => Err((self.path(name), format!("must be a whole number, not {}", type_of(v)))),
        }
    }
}

fn display(at: &str) -> String {
    if at.is_empty() {
        "the config".to_string()
    } else {
        at.to_string()
    }
}

/// Refuse a document (already accepted by serde_json) that gives a member
/// name twice in one object anywhere — serde_json would silently keep the
/// last one — or that nests deeper than warden's scanner checks. Errors are
/// (path, message).
pub fn check_members(doc: &[u8]) -> Res<()> {
    if json::validate(doc).is_err() {
        return Err((String::new(), format!("nested deeper than {} levels", json::MAX_DEPTH)));
    }
    match find_duplicate(doc) {
        Some(at) => Err((at, "given twice".into())),
        None => Ok(()),
    }
}

/// The path of the first value nested more than `json::MAX_DEPTH` deep.
pub fn too_deep(v: &Value) -> String {
    fn walk(v: &Value, depth: usize, at: &str) -> Option<String> {
        if depth > json::MAX_DEPTH {
            return Some(if at.is_empty() { "the config".into() } else { at.to_string() });
        }
        match v {
            Value::Object(m) => m
                .iter()
                .find_map(|(k, x)| walk(x, depth + 1, &if at.is_empty() { k.clone() } else { format!("{at}.{k}") })),
            Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| walk(x, depth + 1, &format!("{at}[{i}]"))),
            _ => None,
        }
    }
    walk(v, 0, "").unwrap_or_else(|| "the config".into())
}

/// The path of the first member name given twice in one object, anywhere in
/// the document (serde_json would silently keep the last one).
pub fn find_duplicate(doc: &[u8]) -> Option<String> {
    fn walk(v: Raw<'_>, at: &str) -> Option<String> {
        match v {
            Raw::Object(raw) => {
                let mut seen: Vec<Vec<u8>> = Vec::new();
                let mut found = None;
                let _ = json::for_each_member(raw, |k, val| {
                    if found.is_some() {
                        return Ok(());
                    }
                    let name: Vec<u8> = k.decoded().collect();
                    let path =
                        format!("{}{}{}", at, if at.is_empty() { "" } else { "." }, String::from_utf8_lossy(&name));
                    if seen.contains(&name) {
                        found = Some(path);
                    } else {
                        found = walk(val, &path);
                        seen.push(name);
                    }
                    Ok(())
                });
                found
            }
            Raw::Array(raw) => {
                json::array_items(raw).enumerate().find_map(|(i, item)| walk(item, &format!("{at}[{i}]")))
            }
            _ => None,
        }
    }
    walk(json::validate(doc).ok()?, "")
}

/// The most a config, or a file it names, may hold: reading `/dev/zero` or
/// a runaway file ends in a refusal that says so, not in exhausted memory.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// A whole file of at most [`MAX_FILE_BYTES`].
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut buf = Vec::new();
    std::fs::File::open(path).map_err(cannot)?.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf).map_err(cannot)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{} is larger than {} MiB", path.display(), MAX_FILE_BYTES >> 20));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_found_with_path() {
        assert_eq!(find_duplicate(br#"{"a":1,"b":{"c":1,"c":2}}"#).as_deref(), Some("b.c"));
        assert_eq!(find_duplicate(br#"{"a":[{"x":1},{"y":1,"\u0079":2}]}"#).as_deref(), Some("a[1].y"));
        assert_eq!(find_duplicate(br#"{"a":1,"a":1}"#).as_deref(), Some("a"));
        assert_eq!(find_duplicate(br#"{"a":{"a":1}}"#), None);
    }

    #[test]
    fn typed_reads_name_the_path() {
        let v: Value = serde_json::from_str(r#"{"s":"x","n":5,"u":-1,"a":["a",1],"o":{}}"#).unwrap();
        let o = Obj::new(&v, "top").unwrap();
        assert_eq!(o.str("s").unwrap(), Some("x"));
        assert_eq!(o.str("n").unwrap_err().0, "top.n");
        assert_eq!(o.uint("u", 10).unwrap_err().0, "top.u");
        assert_eq!(o.uint("n", 4).unwrap_err().0, "top.n");
        assert_eq!(o.strings("a").unwrap_err().0, "top.a[1]");
        assert_eq!(o.num("n", 0.0, 10.0).unwrap(), Some(5.0));
        assert!(o.obj("o").unwrap().is_some());
        assert_eq!(o.only(&["s"]).unwrap_err().0.split('.').count(), 2);
        assert!(Obj::new(&Value::Null, "").is_err());
    }
}
