"""Plain many-to-many link tables; relationships in the entity modules name them."""

from sqlalchemy import Column, ForeignKey, Index, Table

from atmp_graph.model.base import Base


def link_table(name: str, left: str, right: str) -> Table:
    """A two-column link table whose rows disappear with either side.

    Its primary key reads it from the left; an index reads it from the right (a condition's
    trials, and trials filtered by condition)."""
    return Table(
        name,
        Base.metadata,
        Column(f"{left}_id", ForeignKey(f"{left}.id", ondelete="CASCADE"), primary_key=True),
        Column(f"{right}_id", ForeignKey(f"{right}.id", ondelete="CASCADE"), primary_key=True),
        Index(f"ix_{name}_{right}_id", f"{right}_id", f"{left}_id"),
    )


agreement_party = link_table("agreement_party", "agreement", "institution")
person_affiliation = link_table("person_affiliation", "person", "institution")
project_partner = link_table("project_partner", "project", "institution")
project_condition = link_table("project_condition", "project", "condition")
project_product = link_table("project_product", "project", "product")
product_indication = link_table("product_indication", "product", "condition")
trial_condition = link_table("trial_condition", "clinical_trial", "condition")
trial_product = link_table("trial_product", "clinical_trial", "product")
trial_collaborator = link_table("trial_collaborator", "clinical_trial", "institution")
partnership_institution = link_table("partnership_institution", "partnership", "institution")
partnership_project = link_table("partnership_project", "partnership", "project")
partnership_product = link_table("partnership_product", "partnership", "product")
