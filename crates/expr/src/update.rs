//! Applying an update expression to an item.
//!
//! Every right-hand side (and every ADD / DELETE) is computed from the item as it
//! was before the update, as DynamoDB does; the results are then written to a copy,
//! which replaces the item only when everything succeeded. Pinned behaviours:
//! - SET on a list index past the end appends; several such SETs append in index
//!   order (Developer Guide: "the elements are sorted in order by element number");
//! - REMOVE of several elements of one list uses the original indexes (removals run
//!   from the highest index down); REMOVE of a missing attribute, element or map key
//!   is a no-op, but its parent must exist with the right type (DynamoDB refuses
//!   `REMOVE x.y` when the item has no map `x`, and accepts it when only `y` is missing);
//! - SET / ADD below a parent that is missing or has the wrong type fails with "The
//!   document path provided in the update expression is invalid for update";
//! - ADD: missing attribute + number = the number, number + number, set ∪ set of the
//!   same type; anything else "An operand in the update expression has an incorrect
//!   data type";
//! - DELETE: set ∖ set of the same type; an emptied set is removed; a missing
//!   attribute is left alone (its parent, as for REMOVE, must exist);
//! - `+` / `-` need numbers; a path on the right that is missing fails with "The
//!   provided expression refers to an attribute that does not exist in the item";
//!   number overflow and precision errors carry the number's own message;
//! - the legacy `AttributeUpdates` ADD / DELETE ([`UpdateAction::LegacyAdd`],
//!   [`UpdateAction::LegacyDelete`]) behave the same, except that ADD of a list to a
//!   missing attribute or a stored list appends it, and a value that does not fit the
//!   stored one fails with "Type mismatch for attribute to update".

use stator_types::{AttributeValue, Item};

use crate::ast::{Path, PathElem, SetValue, Update, UpdateAction, UpdateOperand};
use crate::error::{runtime, ExprError};
use crate::eval::get_path;

fn operand(o: &UpdateOperand, item: &Item) -> Result<AttributeValue, ExprError> {
    match o {
        UpdateOperand::Path(p) => get_path(item, p).cloned().ok_or_else(runtime::missing_attribute),
        UpdateOperand::Value(v) => Ok(v.value.clone()),
        UpdateOperand::IfNotExists(p, default) => match get_path(item, p) {
            Some(v) => Ok(v.clone()),
            None => operand(default, item),
        },
        UpdateOperand::ListAppend(a, b) => {
            let (a, b) = (operand(a, item)?, operand(b, item)?);
            match (a, b) {
                (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                    x.extend(y);
                    Ok(AttributeValue::L(x))
                }
                _ => Err(runtime::wrong_type()),
            }
        }
    }
}

fn set_value(v: &SetValue, item: &Item) -> Result<AttributeValue, ExprError> {
    let (a, b, plus) = match v {
        SetValue::Operand(o) => return operand(o, item),
        SetValue::Plus(a, b) => (a, b, true),
        SetValue::Minus(a, b) => (a, b, false),
    };
    let (a, b) = (operand(a, item)?, operand(b, item)?);
    let (AttributeValue::N(x), AttributeValue::N(y)) = (&a, &b) else {
        return Err(runtime::wrong_type());
    };
    let r = if plus { x.add(y) } else { x.sub(y) };
    r.map(AttributeValue::N).map_err(|e| ExprError(e.message().to_string()))
}

fn union<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    for x in b {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

fn difference<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Which update syntax an ADD / DELETE came from: the legacy `AttributeUpdates`
/// also appends lists on ADD, and words a type mismatch differently.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Expression,
    Legacy,
}

impl Flavor {
    fn mismatch(self) -> ExprError {
        match self {
            Flavor::Expression => runtime::wrong_type(),
            Flavor::Legacy => runtime::legacy_type_mismatch(),
        }
    }
}

fn add(existing: Option<&AttributeValue>, v: &AttributeValue, flavor: Flavor) -> Result<AttributeValue, ExprError> {
    use AttributeValue as V;
    let lists = flavor == Flavor::Legacy;
    Ok(match (existing, v) {
        (None, V::N(_) | V::SS(_) | V::NS(_) | V::BS(_)) => v.clone(),
        (None, V::L(_)) if lists => v.clone(),
        (Some(V::N(x)), V::N(y)) => V::N(x.add(y).map_err(|e| ExprError(e.message().to_string()))?),
        (Some(V::SS(x)), V::SS(y)) => V::SS(union(x, y)),
        (Some(V::NS(x)), V::NS(y)) => V::NS(union(x, y)),
        (Some(V::BS(x)), V::BS(y)) => V::BS(union(x, y)),
        (Some(V::L(x)), V::L(y)) if lists => V::L(x.iter().chain(y).cloned().collect()),
        _ => return Err(flavor.mismatch()),
    })
}

/// The set left after DELETE, or None when it became empty.
fn delete(existing: &AttributeValue, v: &AttributeValue, flavor: Flavor) -> Result<Option<AttributeValue>, ExprError> {
    use AttributeValue as V;
    let out = match (existing, v) {
        (V::SS(x), V::SS(y)) => V::SS(difference(x, y)),
        (V::NS(x), V::NS(y)) => V::NS(difference(x, y)),
        (V::BS(x), V::BS(y)) => V::BS(difference(x, y)),
        _ => return Err(flavor.mismatch()),
    };
    let empty = match &out {
        V::SS(s) => s.is_empty(),
        V::NS(s) => s.is_empty(),
        V::BS(s) => s.is_empty(),
        _ => false,
    };
    Ok(if empty { None } else { Some(out) })
}

/// Walks to the value at `elems`: Ok(None) when something on the way is missing,
/// Err when a step meets a value of the wrong kind.
fn walk_mut<'v>(item: &'v mut Item, elems: &[PathElem]) -> Result<Option<&'v mut AttributeValue>, ExprError> {
    let Some((first, rest)) = elems.split_first() else {
        return Err(runtime::invalid_path());
    };
    let PathElem::Attr(a) = first else {
        return Err(runtime::invalid_path());
    };
    let Some(mut cur) = item.get_mut(a) else {
        return Ok(None);
    };
    for e in rest {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttributeValue::M(m)) => match m.get_mut(a) {
                Some(v) => v,
                None => return Ok(None),
            },
            (PathElem::Index(i), AttributeValue::L(l)) => match l.get_mut(*i) {
                Some(v) => v,
                None => return Ok(None),
            },
            _ => return Err(runtime::invalid_path()),
        };
    }
    Ok(Some(cur))
}

fn set_path(item: &mut Item, path: &Path, value: AttributeValue) -> Result<(), ExprError> {
    let Some((last, parents)) = path.0.split_last() else {
        return Err(runtime::invalid_path());
    };
    if parents.is_empty() {
        let PathElem::Attr(a) = last else {
            return Err(runtime::invalid_path());
        };
        match item.get_mut(a) {
            Some(slot) => *slot = value,
            None => {
                item.insert(a.clone(), value);
            }
        }
        return Ok(());
    }
    match (last, walk_mut(item, parents)?) {
        (PathElem::Attr(a), Some(AttributeValue::M(m))) => {
            m.insert(a.clone(), value);
        }
        (PathElem::Index(i), Some(AttributeValue::L(l))) => match l.get_mut(*i) {
            Some(slot) => *slot = value,
            None => l.push(value),
        },
        _ => return Err(runtime::invalid_path()),
    }
    Ok(())
}

/// Whether the container `path` would live in exists with the right type (a map for
/// a key, a list for an index); top-level attributes always have one.
fn parent_ok(item: &Item, path: &Path) -> bool {
    let Some((last, parents)) = path.0.split_last() else {
        return false;
    };
    if parents.is_empty() {
        return matches!(last, PathElem::Attr(_));
    }
    matches!(
        (last, get_path(item, &Path(parents.to_vec()))),
        (PathElem::Attr(_), Some(AttributeValue::M(_))) | (PathElem::Index(_), Some(AttributeValue::L(_)))
    )
}

fn remove_path(item: &mut Item, path: &Path) -> Result<(), ExprError> {
    let Some((last, parents)) = path.0.split_last() else {
        return Err(runtime::invalid_path());
    };
    if parents.is_empty() {
        let PathElem::Attr(a) = last else {
            return Err(runtime::invalid_path());
        };
        item.remove(a);
        return Ok(());
    }
    match (last, walk_mut(item, parents)?) {
        (PathElem::Attr(a), Some(AttributeValue::M(m))) => {
            m.remove(a);
        }
        (PathElem::Index(i), Some(AttributeValue::L(l))) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(runtime::invalid_path()),
    }
    Ok(())
}

impl Update {
    /// Applies all actions to `item` in place, evaluating every right-hand side against
    /// the ORIGINAL item, as DynamoDB does. On error the item is left unchanged.
    pub fn apply(&self, item: &mut Item) -> Result<(), ExprError> {
        let mut writes: Vec<(&Path, AttributeValue)> = Vec::new();
        let mut removes: Vec<&Path> = Vec::new();
        for action in &self.actions {
            match action {
                UpdateAction::Set(p, v) => writes.push((p, set_value(v, item)?)),
                UpdateAction::Remove(p) => removes.push(p),
                UpdateAction::Add(p, v) => writes.push((p, add(get_path(item, p), &v.value, Flavor::Expression)?)),
                UpdateAction::LegacyAdd(p, v) => writes.push((p, add(get_path(item, p), &v.value, Flavor::Legacy)?)),
                UpdateAction::Delete(p, v) | UpdateAction::LegacyDelete(p, v) => {
                    let flavor = match action {
                        UpdateAction::LegacyDelete(..) => Flavor::Legacy,
                        _ => Flavor::Expression,
                    };
                    match get_path(item, p) {
                        Some(existing) => match delete(existing, &v.value, flavor)? {
                            Some(left) => writes.push((p, left)),
                            None => removes.push(p),
                        },
                        None if parent_ok(item, p) => {}
                        None => return Err(runtime::invalid_path()),
                    }
                }
            }
        }
        // Writes and removals of top-level attributes cannot fail: they go straight to
        // the item. A nested path can fail half-way, so those go to a copy, which
        // replaces the item only when all succeeded.
        let top = |p: &Path| matches!(p.0.as_slice(), [PathElem::Attr(_)]);
        if writes.iter().all(|(p, _)| top(p)) && removes.iter().all(|p| top(p)) {
            for (p, v) in writes {
                set_path(item, p, v)?;
            }
            for p in removes {
                remove_path(item, p)?;
            }
            return Ok(());
        }
        let mut out = item.clone();
        // Paths never overlap, so order only matters among appends to one list.
        writes.sort_by(|a, b| a.0.cmp(b.0));
        for (p, v) in writes {
            set_path(&mut out, p, v)?;
        }
        // Highest index first, so each removal still sees the original positions.
        removes.sort_by(|a, b| b.cmp(a));
        for p in removes {
            remove_path(&mut out, p)?;
        }
        *item = out;
        Ok(())
    }

    /// The distinct top-level attribute names whose values the update reads or
    /// writes: its targets' and every operand path's. Applied to an item holding just
    /// these attributes (those of them the full item has), the update fails or
    /// succeeds as on the full item and leaves them as it would there; it touches no
    /// other attribute.
    pub fn referenced_attributes(&self) -> Vec<&str> {
        fn push<'a>(p: &'a Path, out: &mut Vec<&'a str>) {
            if let Some(t) = p.top() {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        fn operand<'a>(o: &'a UpdateOperand, out: &mut Vec<&'a str>) {
            match o {
                UpdateOperand::Path(p) => push(p, out),
                UpdateOperand::Value(_) => {}
                UpdateOperand::IfNotExists(p, o) => {
                    push(p, out);
                    operand(o, out);
                }
                UpdateOperand::ListAppend(a, b) => {
                    operand(a, out);
                    operand(b, out);
                }
            }
        }
        let mut out = self.touched_attributes();
        for action in &self.actions {
            match action {
                UpdateAction::Set(_, SetValue::Operand(o)) => operand(o, &mut out),
                UpdateAction::Set(_, SetValue::Plus(a, b) | SetValue::Minus(a, b)) => {
                    operand(a, &mut out);
                    operand(b, &mut out);
                }
                _ => {}
            }
        }
        out
    }

    /// The paths the update modifies (SET / REMOVE / ADD / DELETE targets), in source
    /// order; each starts with the top-level attribute name.
    pub fn touched_paths(&self) -> Vec<&Path> {
        self.actions.iter().map(UpdateAction::target).collect()
    }

    /// The distinct top-level attribute names the update modifies, in source order.
    pub fn touched_attributes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in self.touched_paths() {
            if let Some(t) = p.top() {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }
}
