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
///
/// Linear in the document: names seen are hashed (a `Vec` searched per
/// member made an object of m members cost m²), and the path is kept as a
/// stack of segments, joined only for the duplicate (formatting it for every
/// member cost items × path length).
pub fn find_duplicate(doc: &[u8]) -> Option<String> {
    use std::borrow::Cow;
    use std::collections::HashSet;

    enum Seg<'a> {
        Name(Cow<'a, [u8]>),
        Index(usize),
    }

    fn join(path: &[Seg<'_>]) -> String {
        let mut s = String::new();
        for seg in path {
            match seg {
                Seg::Name(n) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(&String::from_utf8_lossy(n));
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    fn walk<'a>(v: Raw<'a>, path: &mut Vec<Seg<'a>>) -> Option<String> {
        match v {
            Raw::Object(raw) => {
                let mut seen: HashSet<Cow<'a, [u8]>> = HashSet::new();
                let mut found = None;
                let _ = json::for_each_member(raw, |k, val| {
                    if found.is_some() {
                        return Ok(());
                    }
                    let name: Cow<'a, [u8]> =
                        if k.escaped { Cow::Owned(k.decoded().collect()) } else { Cow::Borrowed(k.raw) };
                    path.push(Seg::Name(name.clone()));
                    if seen.contains(&name) {
                        found = Some(join(path));
                    } else {
                        found = walk(val, path);
                        seen.insert(name);
                    }
                    path.pop();
                    Ok(())
                });
                found
            }
            Raw::Array(raw) => {
                for (i, item) in json::array_items(raw).enumerate() {
                    path.push(Seg::Index(i));
                    let found = walk(item, path);
                    path.pop();
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            _ => None,
        }
    }
    walk(json::validate(doc).ok()?, &mut Vec::new())
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
        assert_eq!(
            find_duplicate(br#"[[1,{"k":{"x":1}}],[{},{"k":[{"z":0,"z":0}]}]]"#).as_deref(),
            Some("[1][1].k[0].z")
        );
        assert_eq!(find_duplicate(br#"{"a\u002eb":{"c":1},"a.b":2}"#).as_deref(), Some("a.b"));
    }

    #[test]
    #[cfg_attr(miri, ignore = "hundreds of thousands of members: minutes under Miri; the small cases above run there")]
    fn duplicates_in_wide_and_long_documents() {
        // 200,000 members, the duplicate last (the search once compared each
        // name with every earlier one: 2e10 comparisons); and 200,000 items
        // under a long member name (the path was formatted for each item).
        let mut doc = String::from("{");
        for i in 0..200_000 {
            doc.push_str(&format!("\"m{i}\":0,"));
        }
        doc.push_str("\"m7\":1}");
        assert_eq!(find_duplicate(doc.as_bytes()).as_deref(), Some("m7"));
        let long = "n".repeat(100_000);
        let doc = format!("{{\"{long}\":[{}{{\"d\":1,\"d\":2}}]}}", "0,".repeat(200_000));
        assert_eq!(find_duplicate(doc.as_bytes()), Some(format!("{long}[200000].d")));
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
