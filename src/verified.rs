//! What an accepted credential tells the host, borrowed from the caller's
//! [`Scratch`](crate::Scratch): nothing is copied into new allocations.

use crate::json::{self, RawStr, Value};
use crate::scratch::Span;
use crate::verdict::Kind;
use std::borrow::Cow;

/// An accepted credential. Borrowed from the scratch it was verified with,
/// valid until that scratch is used again.
#[derive(Clone, Copy, Debug)]
pub struct Verified<'s> {
    pub(crate) kind: Kind,
    pub(crate) out: &'s [u8],
    pub(crate) payload: &'s [u8],
    pub(crate) subject: Option<Span>,
    pub(crate) kid: Option<Span>,
    pub(crate) key_id: Option<Span>,
    pub(crate) scopes: &'s [Span],
    pub(crate) exp: Option<f64>,
    pub(crate) exp_text: Option<Span>,
}

fn text(out: &[u8], s: Option<Span>) -> Option<&str> {
    s.map(|s| s.text(out))
}

impl<'s> Verified<'s> {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// JWT `sub`, API key `owner`, or Basic user name.
    pub fn subject(&self) -> Option<&'s str> {
        text(self.out, self.subject)
    }

    /// The `kid` of the JWK that verified a JWT (also for kid-less tokens).
    pub fn kid(&self) -> Option<&'s str> {
        text(self.out, self.kid)
    }

    /// The configured `id` of an API key.
    pub fn key_id(&self) -> Option<&'s str> {
        text(self.out, self.key_id)
    }

    /// JWT `scope` split on spaces, else `scp` (a string split so, or an
    /// array's string items); API key `scopes`.
    pub fn scopes(&self) -> impl ExactSizeIterator<Item = &'s str> + 's {
        let out = self.out;
        self.scopes.iter().map(move |s| s.text(out))
    }

    /// Does the credential carry scope `want`?
    pub fn has_scope(&self, want: &str) -> bool {
        self.scopes().any(|s| s == want)
    }

    /// JWT `exp` as a number.
    pub fn exp(&self) -> Option<f64> {
        self.exp
    }

    /// JWT `exp` exactly as the token wrote it (a JSON number).
    pub fn exp_text(&self) -> Option<&'s str> {
        text(self.out, self.exp_text)
    }

    /// The decoded JWT payload (a JSON object), for hosts that want it whole.
    pub fn payload(&self) -> Option<&'s str> {
        if self.payload.is_empty() {
            None
        } else {
            core::str::from_utf8(self.payload).ok()
        }
    }

    /// A top-level claim of a JWT by name.
    pub fn claim(&self, name: &str) -> Option<Claim<'s>> {
        if self.payload.is_empty() {
            return None;
        }
        json::object_get(self.payload, name.as_bytes()).map(|v| Claim { v, doc: self.payload })
    }

    /// A nested claim by a dotted path (`realm_access.roles`); each step is a
    /// member name. A name containing a dot is reached with [`claim`](Self::claim).
    pub fn claim_path(&self, path: &str) -> Option<Claim<'s>> {
        let mut steps = path.split('.');
        let mut cur = self.claim(steps.next()?)?;
        for step in steps {
            let Value::Object(raw) = cur.v else { return None };
            cur = Claim { v: json::object_get(raw, step.as_bytes())?, doc: self.payload };
        }
        Some(cur)
    }
}

/// One claim value, borrowed from the decoded payload.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'s> {
    v: Value<'s>,
    doc: &'s [u8],
}

impl<'s> Claim<'s> {
    /// The value's JSON text, exactly as in the payload.
    pub fn raw_json(&self) -> &'s str {
        let bytes: &'s [u8] = match self.v {
            Value::Str(RawStr { raw, .. }) => {
                // Widen the body to include its quotes (they are in `doc`).
                let start = raw.as_ptr() as usize - self.doc.as_ptr() as usize;
                &self.doc[start - 1..start + raw.len() + 1]
            }
            Value::Num { text, .. } => text,
            Value::Bool(true) => b"true",
            Value::Bool(false) => b"false",
            Value::Null => b"null",
            Value::Array(r) | Value::Object(r) => r,
        };
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// The string value, unescaped (borrowed when it has no escapes).
    pub fn as_str(&self) -> Option<Cow<'s, str>> {
        match self.v {
            Value::Str(s) => Some(match s.as_unescaped_str() {
                Some(b) => Cow::Borrowed(b),
                None => Cow::Owned(String::from_utf8_lossy(&s.decoded().collect::<Vec<u8>>()).into_owned()),
            }),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.v {
            Value::Num { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.v {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.v, Value::Null)
    }

    /// The items of an array claim.
    pub fn items(&self) -> impl Iterator<Item = Claim<'s>> + 's {
        let doc = self.doc;
        let raw: &'s [u8] = if let Value::Array(r) = self.v { r } else { b"[]" };
        json::array_items(raw).map(move |v| Claim { v, doc })
    }

    /// The JSON type name (`string`, `number`, `boolean`, `null`, `array`, `object`).
    pub fn type_name(&self) -> &'static str {
        self.v.type_name()
    }
}
