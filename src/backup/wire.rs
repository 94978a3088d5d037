//! The rows' layout on disk (`lsauth-backup/2`): each row a compact array, its
//! timestamps indexes into one table; `lsauth-backup/1`'s texts in place still read.

use super::*;

/// A row on disk: `[api_tokens_enabled, legacy_api_tokens_enabled, api_token_ttl_days,
/// created_at, updated_at]`, each timestamp an index into the backup's table of
/// timestamps (`lsauth-backup/1` wrote the texts in place). Compact because a backup of
/// `--all` on 100,000 organizations is written while the lock is held and read back,
/// checked and parsed before a rollback: four texts made up 110 of a row's 125 bytes,
/// and a change of `--all` has only a few distinct ones.
type WireRow<'a> = (bool, bool, i64, Stamp<'a>, Stamp<'a>);

/// A timestamp on disk: an index into the table (`lsauth-backup/2`) or the text itself
/// (`/1`), borrowed from the backup's bytes when it holds no escape.
enum Stamp<'a> {
    At(u64),
    Text(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Stamp<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Stamp<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a timestamp or its index in the table of timestamps")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Stamp::At(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Stamp::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Stamp::Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A change on disk: `[organization_id, before, after]`, `null` for "no row".
type WireChange<'a> = (i64, Option<WireRow<'a>>, Option<WireRow<'a>>);

/// The distinct timestamps of a list of changes, in order of first use, and each
/// change's four indexes into them (created and updated, before and after).
struct TimeTable<'a> {
    times: Vec<&'a str>,
    indexes: Vec<[u32; 4]>,
}

impl<'a> TimeTable<'a> {
    fn of(changes: &'a [RowChange]) -> Self {
        let mut at: HashMap<&'a str, u32> = HashMap::new();
        let mut times = Vec::new();
        let mut index_of = |t: &'a Timestamp| -> u32 {
            *at.entry(&**t).or_insert_with(|| {
                times.push(&**t);
                (times.len() - 1) as u32
            })
        };
        let mut pair = |side: &'a Option<StoredRow>| match side {
            Some(r) => [index_of(&r.created_at), index_of(&r.updated_at)],
            None => [0, 0],
        };
        let indexes = changes
            .iter()
            .map(|change| {
                let (before, after) = (pair(&change.before), pair(&change.after));
                [before[0], before[1], after[0], after[1]]
            })
            .collect();
        TimeTable { times, indexes }
    }
}

/// The rows as `lsauth-backup/2` writes them: `{"times": [...], "changes": [...]}`.
pub(super) struct TabledRows<'a>(pub(super) &'a [RowChange]);

struct IndexedChanges<'a> {
    changes: &'a [RowChange],
    indexes: &'a [[u32; 4]],
}

struct IndexedSide<'a>(&'a Option<StoredRow>, [u32; 2]);

impl Serialize for IndexedSide<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        match self.0 {
            None => s.serialize_none(),
            Some(r) => {
                let mut t = s.serialize_tuple(5)?;
                t.serialize_element(&r.api_tokens_enabled)?;
                t.serialize_element(&r.legacy_api_tokens_enabled)?;
                t.serialize_element(&r.api_token_ttl_days)?;
                t.serialize_element(&self.1[0])?;
                t.serialize_element(&self.1[1])?;
                t.end()
            }
        }
    }
}

impl Serialize for IndexedChanges<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.changes.len()))?;
        for (c, [a, b, d, e]) in self.changes.iter().zip(self.indexes) {
            seq.serialize_element(&(
                c.organization_id,
                IndexedSide(&c.before, [*a, *b]),
                IndexedSide(&c.after, [*d, *e]),
            ))?;
        }
        seq.end()
    }
}

impl Serialize for TabledRows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let table = TimeTable::of(self.0);
        let mut m = s.serialize_struct("Rows", 2)?;
        m.serialize_field("times", &table.times)?;
        m.serialize_field("changes", &IndexedChanges { changes: self.0, indexes: &table.indexes })?;
        m.end()
    }
}

/// Where a backup's timestamps come from while its rows are read.
enum Times {
    /// `lsauth-backup/1`: the texts are in the rows; equal ones met close together are
    /// shared.
    InPlace(SharedTimes),
    /// `lsauth-backup/2`: the rows hold indexes into this table.
    Table(Vec<Timestamp>),
}

impl Times {
    fn get<E: serde::de::Error>(&mut self, stamp: Stamp<'_>, same_as: Option<&Timestamp>) -> Result<Timestamp, E> {
        match (self, stamp) {
            (Times::InPlace(shared), Stamp::Text(t)) => Ok(shared.get(&t, same_as)),
            (Times::Table(table), Stamp::At(i)) => {
                usize::try_from(i).ok().and_then(|i| table.get(i)).cloned().ok_or_else(|| {
                    E::custom(format!("timestamp {i} is not in the table of {} timestamps", table.len()))
                })
            }
            (Times::InPlace(_), Stamp::At(_)) => Err(E::custom("a timestamp index where lsauth-backup/1 has a text")),
            (Times::Table(_), Stamp::Text(_)) => Err(E::custom("a timestamp text where lsauth-backup/2 has an index")),
        }
    }

    fn change<E: serde::de::Error>(
        &mut self,
        (organization_id, before, after): WireChange<'_>,
    ) -> Result<RowChange, E> {
        let mut row = |w: Option<WireRow>, like: Option<&StoredRow>| -> Result<Option<StoredRow>, E> {
            w.map(|(api, legacy, ttl, created_at, updated_at)| {
                Ok(StoredRow {
                    organization_id,
                    api_tokens_enabled: api,
                    legacy_api_tokens_enabled: legacy,
                    api_token_ttl_days: ttl,
                    created_at: self.get(created_at, like.map(|r| &r.created_at))?,
                    updated_at: self.get(updated_at, like.map(|r| &r.updated_at))?,
                })
            })
            .transpose()
        };
        let before = row(before, None)?;
        let after = row(after, before.as_ref())?;
        Ok(RowChange { organization_id, before, after })
    }
}

/// The changes of a backup, each converted as soon as it is parsed: at 100,000 rows no
/// list of the file's rows is built beside the list of rows.
struct ChangesSeed(Times);

impl<'de> serde::de::DeserializeSeed<'de> for ChangesSeed {
    type Value = Vec<RowChange>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChangesSeed {
    type Value = Vec<RowChange>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of [organization_id, before, after]")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(wire) = seq.next_element::<WireChange<'de>>()? {
            rows.push(self.0.change(wire)?);
        }
        Ok(rows)
    }
}

/// A backup's rows as read: `lsauth-backup/2`'s `{"times": [...], "changes": [...]}`
/// or `/1`'s list of changes with the texts in place, and which of the two it was.
pub(super) struct RowsFromWire {
    pub(super) rows: Vec<RowChange>,
    pub(super) tabled: bool,
}

impl<'de> Deserialize<'de> for RowsFromWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = RowsFromWire;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("{\"times\": [...], \"changes\": [...]} or a list of changes")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let rows = ChangesSeed(Times::InPlace(SharedTimes::default())).visit_seq(seq)?;
                Ok(RowsFromWire { rows, tabled: false })
            }
            // The table is written before the changes, which refer to it; the checksum
            // covers the exact bytes, so no other order is ever read.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                if map.next_key::<Cow<str>>()?.as_deref() != Some("times") {
                    return Err(A::Error::custom("the rows do not start with their table of timestamps"));
                }
                let times: Vec<Stamp<'de>> = map.next_value()?;
                let table = times
                    .into_iter()
                    .map(|t| match t {
                        Stamp::Text(t) => Ok(Timestamp::from(&*t)),
                        Stamp::At(_) => Err(A::Error::custom("the table of timestamps holds a number")),
                    })
                    .collect::<Result<_, _>>()?;
                if map.next_key::<Cow<str>>()?.as_deref() != Some("changes") {
                    return Err(A::Error::custom("the table of timestamps is not followed by the changes"));
                }
                let rows = map.next_value_seed(ChangesSeed(Times::Table(table)))?;
                if map.next_key::<Cow<str>>()?.is_some() {
                    return Err(A::Error::custom("the rows hold more than times and changes"));
                }
                Ok(RowsFromWire { rows, tabled: true })
            }
        }
        d.deserialize_any(Visit)
    }
}
