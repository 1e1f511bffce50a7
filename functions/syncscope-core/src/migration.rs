//! Moving a scope from individual sync filters to a parent group: what moves where.
//!
//! The path loses nobody's access at any moment: the parent group goes into the
//! sync scope first, every configured name becomes its member (the stack's first run
//! under the `parent-group` engine), and only then are the individual filters that
//! the parent now covers removed. A filter is retired only when its name is a direct
//! member of the parent (same kind), so everything it synced stays synced through
//! the parent; any other filter stays as it is.

use std::collections::HashSet;

use serde::Serialize;

use crate::names::name_key;
use crate::scope::{CurrentFilter, Desired, FilterKind, Keyed, ScopeKey};

/// Where a configured name stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Place {
    /// A member of the parent already.
    InParent,
    /// An individual filter now: becomes a member, then its filter can retire.
    Moves,
    /// In neither: the stack's first run adds it to the parent.
    New,
}

impl Place {
    /// How it reads in the preview.
    pub fn describe(self) -> &'static str {
        match self {
            Self::InParent => "already a member of the parent group",
            Self::Moves => "an individual filter now; becomes a member of the parent group",
            Self::New => "in neither; becomes a member of the parent group",
        }
    }
}

/// What moves where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    /// The parent group.
    pub parent: String,
    /// Whether the parent group is in the sync scope (a group filter of its own).
    pub parent_in_scope: bool,
    /// Each configured name and where it stands, in config order.
    pub names: Vec<(FilterKind, String, Place)>,
    /// Individual filters the parent covers now (their name is its direct member):
    /// removing them loses nobody's access.
    pub retirable: Vec<CurrentFilter>,
    /// Individual filters that stay: the parent does not cover them (yet).
    pub staying: Vec<CurrentFilter>,
}

/// Whether `filter` is the parent group's own filter (a group of that name, compared
/// as AD compares names).
pub fn is_parent_filter(filter: &CurrentFilter, parent: &str) -> bool {
    filter.kind == FilterKind::Group && name_key(&filter.name) == name_key(parent)
}

/// What moves where, from the config's names, the sync scope's filters and the parent
/// group's direct members (users and groups).
pub fn migration(
    desired: &Desired,
    filters: &[CurrentFilter],
    members: &[CurrentFilter],
    parent: &str,
) -> Migration {
    let members: HashSet<ScopeKey> = members.iter().map(Keyed::key).collect();
    let listed: HashSet<ScopeKey> = filters.iter().map(Keyed::key).collect();
    let is_parent = |f: &CurrentFilter| is_parent_filter(f, parent);
    let names = desired
        .filters
        .iter()
        .map(|d| {
            let key = desired.key(d);
            let place = if members.contains(&key) {
                Place::InParent
            } else if listed.contains(&key) {
                Place::Moves
            } else {
                Place::New
            };
            (d.kind, d.name.as_str().to_owned(), place)
        })
        .collect();
    let (retirable, staying) = filters
        .iter()
        .filter(|f| !is_parent(f))
        .cloned()
        .partition(|f| members.contains(&f.key()));
    Migration {
        parent: parent.to_owned(),
        parent_in_scope: filters.iter().any(is_parent),
        names,
        retirable,
        staying,
    }
}

impl Migration {
    /// The preview as text, with the steps that follow.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Moving to the parent group {}: {}\n",
            self.parent,
            if self.parent_in_scope {
                "it is in the sync scope"
            } else {
                "not in the sync scope yet (`syncscope bootstrap --engine parent-group` puts it there)"
            }
        );
        for place in [Place::Moves, Place::New, Place::InParent] {
            let of: Vec<_> = self.names.iter().filter(|(_, _, p)| *p == place).collect();
            if of.is_empty() {
                continue;
            }
            out.push_str(&format!("  {} name(s) {}:\n", of.len(), place.describe()));
            for (kind, name, _) in of {
                out.push_str(&format!("    {:<5}  {name}\n", kind.as_str()));
            }
        }
        if !self.retirable.is_empty() {
            out.push_str(&format!(
                "  {} individual filter(s) the parent covers now; `syncscope bootstrap --engine parent-group --retire-filters` removes them:\n",
                self.retirable.len()
            ));
            for f in &self.retirable {
                out.push_str(&format!("    - {:<5}  {}\n", f.kind.as_str(), f.name));
            }
        }
        if !self.staying.is_empty() {
            out.push_str(&format!(
                "  {} individual filter(s) stay (not members of the parent yet):\n",
                self.staying.len()
            ));
            for f in &self.staying {
                out.push_str(&format!("      {:<5}  {}\n", f.kind.as_str(), f.name));
            }
        }
        out.push_str(
            "Steps, nobody losing access at any moment (docs/engines.md): 1. `syncscope bootstrap --engine parent-group` (the group and its one filter); 2. `task deploy` (every name becomes a member); 3. after the next sync cycle, `syncscope bootstrap --engine parent-group --retire-filters`.\n",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(kind: FilterKind, name: &str) -> CurrentFilter {
        CurrentFilter {
            id: format!("id-{name}"),
            kind,
            name: name.to_owned(),
            domain: "corp.example.com".to_owned(),
        }
    }

    #[test]
    fn each_name_moves_and_only_covered_filters_retire() {
        let desired =
            Desired::groups("corp.example.com", ["AWS-Admins", "AWS-Dev", "AWS-New"]).unwrap();
        let g = FilterKind::Group;
        let filters = [
            filter(g, "Parent"),
            filter(g, "aws-admins"),
            filter(g, "AWS-Dev"),
            filter(g, "Console-Only"),
            filter(FilterKind::User, "aws-admins"),
        ];
        let members = [filter(g, "AWS-ADMINS")];
        let m = migration(&desired, &filters, &members, "parent");
        assert!(m.parent_in_scope);
        let places: Vec<Place> = m.names.iter().map(|(_, _, p)| *p).collect();
        assert_eq!(places, [Place::InParent, Place::Moves, Place::New]);
        let retire: Vec<&str> = m.retirable.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(retire, ["aws-admins"], "only the group the parent holds");
        let stay: Vec<&str> = m.staying.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(stay, ["AWS-Dev", "Console-Only", "aws-admins"]);
        let text = m.text();
        assert!(
            text.contains("1 individual filter(s) the parent covers now"),
            "{text}"
        );
        assert!(!text.contains("- group  Parent"), "{text}");
    }
}
